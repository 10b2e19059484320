//! norikae-search
