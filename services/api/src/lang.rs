//! The client's language: `lang=` wins, then the best `Accept-Language` entry. Tags are passed
//! on in canonical case with their script and region (`zh-hant` → `zh-Hant`, `en-us` →
//! `en-US`): the engines and the alerts match them against the tags their texts are keyed by
//! with `norikae_wire::lang::best_match`, so `zh-Hant` never collapses to `zh` and picks Hans.

use http::HeaderMap;
use norikae_runtime::Problem;

/// The requested language, if any. A `lang` that is not a language tag is 400 naming `lang`;
/// a malformed `Accept-Language` is ignored (browsers send what they send).
pub fn resolve(lang: Option<&str>, headers: &HeaderMap) -> Result<Option<String>, Problem> {
    if let Some(text) = lang.map(str::trim).filter(|text| !text.is_empty()) {
        return primary_language(text).map(Some).ok_or_else(|| {
            Problem::bad_request(
                "invalid_parameter",
                format!("lang `{text}` is not a language tag like ja, en, zh-Hant or ja-Hrkt"),
            )
            .with_field("lang")
        });
    }
    let header = headers
        .get(http::header::ACCEPT_LANGUAGE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default();
    Ok(from_accept_language(header))
}

/// `ja`, `en-us`, `zh-hant-tw` → `ja`, `en-US`, `zh-Hant-TW`; `None` for anything else.
fn primary_language(tag: &str) -> Option<String> {
    norikae_wire::lang::canonical(tag)
}

/// The entry with the highest `q` (the first among equals); `*` means no preference.
fn from_accept_language(header: &str) -> Option<String> {
    let mut best: Option<(f32, String)> = None;
    for entry in header.split(',') {
        let mut parts = entry.split(';');
        let tag = parts.next().unwrap_or_default().trim();
        let quality = parts
            .filter_map(|part| part.trim().strip_prefix("q="))
            .find_map(|value| value.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        if quality <= 0.0 || tag == "*" {
            continue;
        }
        let Some(language) = primary_language(tag) else { continue };
        if best.as_ref().is_none_or(|(best_quality, _)| quality > *best_quality) {
            best = Some((quality, language));
        }
    }
    best.map(|(_, language)| language)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(http::header::ACCEPT_LANGUAGE, value.parse().expect("header"));
        headers
    }

    #[test]
    fn lang_parameter_wins_over_the_header() {
        let chosen = resolve(Some("en"), &headers("ja")).expect("valid");
        assert_eq!(chosen.as_deref(), Some("en"));
    }

    #[test]
    fn accept_language_picks_the_highest_quality() {
        let chosen = resolve(None, &headers("fr;q=0.2, en-US;q=0.9, ja;q=0.5")).expect("valid");
        assert_eq!(chosen.as_deref(), Some("en-US"));
        assert_eq!(resolve(None, &headers("*")).expect("valid"), None);
        assert_eq!(resolve(None, &HeaderMap::new()).expect("valid"), None);
    }

    #[test]
    fn script_subtags_are_kept() {
        for (sent, kept) in
            [("zh-hant", "zh-Hant"), ("zh-Hans-CN", "zh-Hans-CN"), ("ja-HRKT", "ja-Hrkt")]
        {
            assert_eq!(
                resolve(Some(sent), &HeaderMap::new()).expect("valid").as_deref(),
                Some(kept)
            );
        }
        let chosen = resolve(None, &headers("zh-TW;q=0.8, en;q=0.5")).expect("valid");
        assert_eq!(chosen.as_deref(), Some("zh-TW"));
    }

    #[test]
    fn a_garbled_lang_names_the_field() {
        let problem = resolve(Some("日本語"), &HeaderMap::new()).unwrap_err();
        assert_eq!(problem.field.as_deref(), Some("lang"));
    }
}
