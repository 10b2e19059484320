//! norikae-api
