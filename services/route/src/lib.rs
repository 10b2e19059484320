//! norikae-route
