//! norikae-runtime
