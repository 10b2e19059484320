//! Language tags as clients send them (`lang=`, `Accept-Language`) and as feeds and alerts key
//! their texts (GTFS translations.txt: `en`, `ja-Hrkt`, `zh-TW`, `zh-Hant`, …), and the one
//! rule every service matches them by, so that a station name, a headsign and an alert pick
//! the same language for the same request.
//!
//! The script subtag is kept: `zh-Hant` (traditional characters) and `zh-Hans` (simplified)
//! are different texts, and `ja-Hrkt` is the kana reading of a Japanese name. A region implies
//! a script where the two are conventionally tied (`zh-TW`, `zh-HK`, `zh-MO` → Hant; `zh-CN`,
//! `zh-SG` → Hans), so a feed that writes `zh-TW` answers a client asking for `zh-Hant` and
//! the other way round, and neither ever answers with the other script.
//!
//! Also the query of the endpoints that take only a language ([`LangParams`]).

/// The query of an endpoint whose only parameter is the language (`/stations/{id}` of the
/// search service, `/routes/{id}` of the route service, and the api's `/v1/…` forms of both,
/// which resolve `lang` against `Accept-Language` and forward it).
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LangParams {
    /// Language of names; else `Accept-Language`.
    #[param(pattern = r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]{1,8})*$", example = "en")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lang: Option<String>,
}

/// A tag in its canonical case (`zh-hant-tw` → `zh-Hant-TW`), or `None` when `text` is not
/// a language tag of the form `language[-Script][-REGION]` (extensions and variants dropped:
/// no feed keys texts by them). `_` is read as `-`.
pub fn canonical(text: &str) -> Option<String> {
    let mut subtags = text.trim().split(['-', '_']);
    let language = subtags.next()?;
    let valid_language =
        (2..=3).contains(&language.len()) && language.chars().all(|c| c.is_ascii_alphabetic());
    if !valid_language {
        return None;
    }
    let mut tag = language.to_ascii_lowercase();
    let mut script_seen = false;
    for subtag in subtags {
        let alphabetic = subtag.chars().all(|c| c.is_ascii_alphabetic());
        if subtag.len() == 4 && alphabetic && !script_seen {
            let mut chars = subtag.chars();
            tag.push('-');
            tag.extend(chars.next().map(|c| c.to_ascii_uppercase()));
            tag.extend(chars.map(|c| c.to_ascii_lowercase()));
            script_seen = true;
        } else if (subtag.len() == 2 && alphabetic)
            || (subtag.len() == 3 && subtag.chars().all(|c| c.is_ascii_digit()))
        {
            tag.push('-');
            tag.push_str(&subtag.to_ascii_uppercase());
            break;
        } else if subtag.is_empty() {
            return None;
        } else {
            // A variant or an extension: what follows does not choose a text.
            break;
        }
    }
    Some(tag)
}

/// The parts of a tag that matter for matching: language, script (given or implied by the
/// region), region.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Parts {
    language: String,
    script: Option<String>,
    region: Option<String>,
}

fn parts(tag: &str) -> Option<Parts> {
    let canonical = canonical(tag)?;
    let mut subtags = canonical.split('-');
    let language = subtags.next()?.to_owned();
    let mut script = None;
    let mut region = None;
    for subtag in subtags {
        if subtag.len() == 4 {
            script = Some(subtag.to_owned());
        } else {
            region = Some(subtag.to_owned());
        }
    }
    let implied = match (language.as_str(), region.as_deref()) {
        ("zh", Some("TW" | "HK" | "MO")) => Some("Hant"),
        ("zh", Some("CN" | "SG")) => Some("Hans"),
        _ => None,
    };
    let script = script.or_else(|| implied.map(str::to_owned));
    Some(Parts { language, script, region })
}

/// The position in `available` (tags as a feed or an alert writes them) of the text to show
/// a client asking for `requested`, best first:
/// 1. the same tag (`en-US` = `en-us`);
/// 2. a tag of the same language and script, given or implied (`zh-Hant` ↔ `zh-TW` ↔
///    `zh-Hant-TW`), the same region first;
/// 3. the bare language (`en-US` → `en`; `ja-Hrkt` → `ja` when there is no reading), unless the
///    request names a script and that language's tag is of another one;
///
/// and never a text in another script than the one asked for (`zh-Hant` never gets `zh-CN`).
pub fn best_match<'a>(
    requested: &str,
    available: impl IntoIterator<Item = &'a str> + Clone,
) -> Option<usize> {
    let wanted = parts(requested)?;
    let exact = available
        .clone()
        .into_iter()
        .position(|tag| canonical(tag).is_some_and(|tag| tag.eq_ignore_ascii_case(requested)));
    if exact.is_some() {
        return exact;
    }
    let candidates: Vec<Option<Parts>> = available.into_iter().map(parts).collect();
    if let Some(script) = &wanted.script {
        let same_script = |same_region: bool| {
            candidates.iter().position(|candidate| {
                candidate.as_ref().is_some_and(|candidate| {
                    candidate.language == wanted.language
                        && candidate.script.as_ref() == Some(script)
                        && (!same_region || candidate.region == wanted.region)
                })
            })
        };
        if let Some(position) = same_script(true).or_else(|| same_script(false)) {
            return Some(position);
        }
    }
    candidates.iter().position(|candidate| {
        candidate.as_ref().is_some_and(|candidate| {
            candidate.language == wanted.language
                && candidate.region.is_none()
                && candidate.script.is_none()
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_canonical_and_keep_their_script() {
        assert_eq!(canonical("zh-hant-tw").as_deref(), Some("zh-Hant-TW"));
        assert_eq!(canonical("ZH_hans").as_deref(), Some("zh-Hans"));
        assert_eq!(canonical("ja-HRKT").as_deref(), Some("ja-Hrkt"));
        assert_eq!(canonical("en-us").as_deref(), Some("en-US"));
        assert_eq!(canonical("es-419").as_deref(), Some("es-419"));
        assert_eq!(canonical("de-DE-1996").as_deref(), Some("de-DE"));
        for bad in ["", "日本語", "e", "english", "en--US", "1a"] {
            assert_eq!(canonical(bad), None, "{bad}");
        }
    }

    #[test]
    fn scripts_are_matched_through_regions_and_never_crossed() {
        let feed = ["ja", "en", "ja-Hrkt", "zh-CN", "zh-TW", "ko"];
        let pick = |requested: &str| best_match(requested, feed).map(|index| feed[index]);
        assert_eq!(pick("zh-Hant"), Some("zh-TW"));
        assert_eq!(pick("zh-Hans"), Some("zh-CN"));
        assert_eq!(pick("zh-HK"), Some("zh-TW"), "Hong Kong reads traditional characters");
        assert_eq!(pick("zh-Hant-TW"), Some("zh-TW"));
        assert_eq!(pick("ja-Hrkt"), Some("ja-Hrkt"));
        assert_eq!(pick("ja-hrkt"), Some("ja-Hrkt"));
        assert_eq!(pick("en-GB"), Some("en"));
        assert_eq!(pick("zh"), None, "bare zh names no script: no guess between the two");
        assert_eq!(pick("fr"), None);

        let written_by_script = ["zh-Hans", "zh-Hant", "ja"];
        let pick = |requested: &str| {
            best_match(requested, written_by_script).map(|index| written_by_script[index])
        };
        assert_eq!(pick("zh-TW"), Some("zh-Hant"));
        assert_eq!(pick("zh-CN"), Some("zh-Hans"));
        assert_eq!(pick("zh-SG"), Some("zh-Hans"));

        // Only simplified text: a client asking for traditional gets none of it (the caller
        // falls back to the feed's own language), never the other script.
        let simplified_only = ["zh-CN", "zh"];
        assert_eq!(best_match("zh-Hant", simplified_only), Some(1), "bare zh, not zh-CN");
        assert_eq!(best_match("zh-TW", ["zh-CN"]), None);
        assert_eq!(best_match("zh-Hant", ["zh-Hans"]), None);
        // No reading: ja-Hrkt falls back to the Japanese text.
        assert_eq!(best_match("ja-Hrkt", ["en", "ja"]), Some(1));
    }
}
