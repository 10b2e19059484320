//! norikae-app
