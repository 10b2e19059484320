//! Decoding a GTFS-Realtime message: prost, after a size check.

use prost::Message;

use crate::error::Error;
use crate::proto::FeedMessage;

/// Largest message accepted unless configured otherwise (New York's largest TripUpdates
/// feed is a few MB).
pub const DEFAULT_MAX_BYTES: usize = 64 << 20;

/// Decodes `bytes` as a `FeedMessage`, refusing more than `max_bytes`, and a message without
/// the required header (prost does not enforce proto2's `required`): an empty body would
/// otherwise read as a full dataset of nothing and wipe every update.
pub fn decode(bytes: &[u8], max_bytes: usize) -> Result<FeedMessage, Error> {
    if bytes.len() > max_bytes {
        return Err(Error::TooLarge { size: bytes.len(), limit: max_bytes });
    }
    let message = FeedMessage::decode(bytes)?;
    if message.header.gtfs_realtime_version.is_empty() {
        return Err(Error::MissingHeader);
    }
    Ok(message)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::{FeedEntity, FeedHeader};

    #[test]
    fn a_message_round_trips_and_limits_hold() {
        let message = FeedMessage {
            header: FeedHeader {
                gtfs_realtime_version: "2.0".to_owned(),
                incrementality: None,
                timestamp: Some(1_559_700_000),
                feed_version: None,
            },
            entity: vec![FeedEntity { id: "e1".to_owned(), ..FeedEntity::default() }],
        };
        let bytes = message.encode_to_vec();
        assert_eq!(decode(&bytes, DEFAULT_MAX_BYTES).expect("decodes"), message);
        assert!(matches!(decode(&bytes, 3), Err(Error::TooLarge { limit: 3, .. })));
        assert!(matches!(decode(&[0xff, 0xff, 0xff], 100), Err(Error::Malformed(_))));
        // The required header is missing.
        assert!(matches!(decode(&[], 100), Err(Error::MissingHeader)));
    }
}
