//! Text normalisation shared by indexing and querying, so both sides fold the same way.
//!
//! - [`fold`]: NFKC (full-width and half-width alike), lower case, hiragana → katakana (the
//!   feeds write readings in either script), `ヶ`/`ヵ` → `ケ`/`カ`.
//! - [`words`] / [`compact`]: split on anything that is not a letter or digit (so
//!   `Times Sq-42 St` gives `times sq 42 st`), and the same joined without separators (so
//!   `okayama eki` and `okayamaeki` meet).
//! - [`loose_romaji`]: one spelling for Hepburn and its common variants (long vowels written
//!   `ou`, `oo`, `ō` or dropped, `m`/`n` before labials, `tch`/`cch`), applied to both sides.
//! - [`romaji_of_reading`] and [`reading_variants`]: romaji generated from the kana reading,
//!   with particles (`の`, `ヶ`, `が`, `つ`) optional.
//! - [`canonical_word`] / [`word_expansions`]: the street-name abbreviation table
//!   (`st`/`street`, `av`/`avenue`, `sq`/`square`, …) and station suffixes.

use unicode_normalization::UnicodeNormalization;
use wana_kana::ConvertJapanese;

/// Words that mean "station" at the end of a name (after [`canonical_word`]).
pub const STATION_SUFFIX_WORDS: [&str; 3] = ["sta", "eki", "stn"];

/// Japanese "station" suffix of names and readings.
pub const STATION_SUFFIX_KANJI: &str = "駅";
pub const STATION_SUFFIX_KANA: &str = "エキ";

/// Abbreviation table: canonical (short) form and the long forms that fold to it.
const ABBREVIATIONS: &[(&str, &[&str])] = &[
    ("st", &["street"]),
    ("av", &["avenue", "ave"]),
    ("sq", &["square"]),
    ("pl", &["place"]),
    ("rd", &["road"]),
    ("blvd", &["boulevard"]),
    ("pkwy", &["parkway"]),
    ("hwy", &["highway"]),
    ("hts", &["heights"]),
    ("ctr", &["center", "centre"]),
    ("jct", &["junction"]),
    ("sta", &["station"]),
    ("ft", &["fort"]),
    ("mt", &["mount"]),
    ("pk", &["park"]),
    ("expy", &["expressway"]),
    ("tpke", &["turnpike"]),
    ("ln", &["lane"]),
    ("dr", &["drive"]),
    ("ter", &["terrace"]),
    ("ct", &["court"]),
    ("e", &["east"]),
    ("w", &["west"]),
    ("n", &["north"]),
    ("s", &["south"]),
];

/// NFKC, lower case, macrons dropped (`ō` → `o`), hiragana folded to katakana, `ヶ` to `ケ`.
pub fn fold(text: &str) -> String {
    let mut folded = String::with_capacity(text.len());
    for character in text.nfkc().flat_map(char::to_lowercase) {
        folded.push(strip_macron(fold_kana(character)));
    }
    folded
}

fn fold_kana(character: char) -> char {
    match character {
        'ヶ' | 'ゖ' => 'ケ',
        'ヵ' | 'ゕ' => 'カ',
        // Hiragana ぁ..ゔ and the iteration marks ゝゞ map one-to-one onto katakana.
        'ぁ'..='ゔ' | 'ゝ'..='ゞ' => {
            char::from_u32(character as u32 + 0x60).unwrap_or(character)
        }
        _ => character,
    }
}

/// Whether a character belongs to a Japanese script (kanji, kana, iteration and long marks).
pub fn is_japanese(character: char) -> bool {
    matches!(character,
        '\u{3005}'..='\u{3007}'   // 々 〆 〇
        | '\u{3040}'..='\u{30FF}' // hiragana, katakana, ー
        | '\u{31F0}'..='\u{31FF}'
        | '\u{3400}'..='\u{4DBF}'
        | '\u{4E00}'..='\u{9FFF}'
        | '\u{F900}'..='\u{FAFF}'
        | '\u{FF66}'..='\u{FF9F}')
}

/// The words of already [`fold`]ed text: maximal runs of letters and digits.
pub fn words(folded: &str) -> Vec<&str> {
    folded
        .split(|character: char| !character.is_alphanumeric())
        .filter(|word| !word.is_empty())
        .collect()
}

/// Folded text without separators (`okayama eki` → `okayamaeki`).
pub fn compact(folded: &str) -> String {
    folded.chars().filter(|character| character.is_alphanumeric()).collect()
}

/// Whether folded text is kana only (katakana after [`fold`], with `ー`).
pub fn is_kana(folded: &str) -> bool {
    !folded.is_empty()
        && folded.chars().all(|character| matches!(character, '\u{30A1}'..='\u{30FC}'))
}

/// Whether a compact key is Latin (ASCII letters and digits only): romaji or English.
pub fn is_latin(compact_key: &str) -> bool {
    !compact_key.is_empty() && compact_key.bytes().all(|byte| byte.is_ascii_alphanumeric())
}

/// The canonical form of a Latin word under the abbreviation table (`street` → `st`).
pub fn canonical_word(word: &str) -> &str {
    for (short, long_forms) in ABBREVIATIONS {
        if long_forms.contains(&word) {
            return short;
        }
    }
    word
}

/// The other spellings of a canonical word (`st` → `street`), for word-prefix matching while
/// the long form is being typed.
pub fn word_expansions(canonical: &str) -> &'static [&'static str] {
    ABBREVIATIONS
        .iter()
        .find(|(short, _)| *short == canonical)
        .map_or(&[], |(_, long_forms)| long_forms)
}

/// One spelling for the common variants of Hepburn romaji, over a compact Latin key.
///
/// Long vowels (`ou`, `oo`, `uu`, `aa`, `ii`, `ee`) become one vowel, macrons and circumflexes
/// are dropped (`ō` → `o`), `m` before `b`/`p`/`m` becomes `n` (`samban` = `sanban`), `tch`
/// becomes `cch` (`hatchobori` = `hacchobori`). Applied to index and query alike.
pub fn loose_romaji(key: &str) -> String {
    let letters: Vec<char> = key.chars().map(strip_macron).collect();
    let mut loose = String::with_capacity(letters.len());
    let mut position = 0;
    while position < letters.len() {
        let letter = letters[position];
        let next = letters.get(position + 1).copied();
        let after_next = letters.get(position + 2).copied();
        match (letter, next) {
            ('o', Some('u' | 'o'))
            | ('u', Some('u'))
            | ('a', Some('a'))
            | ('i', Some('i'))
            | ('e', Some('e')) => {
                loose.push(letter);
                position += 2;
                continue;
            }
            ('m', Some('b' | 'p' | 'm')) => loose.push('n'),
            ('t', Some('c')) if after_next == Some('h') => loose.push('c'),
            _ => loose.push(letter),
        }
        position += 1;
    }
    loose
}

fn strip_macron(letter: char) -> char {
    match letter {
        'ā' | 'â' => 'a',
        'ī' | 'î' => 'i',
        'ū' | 'û' => 'u',
        'ē' | 'ê' => 'e',
        'ō' | 'ô' => 'o',
        _ => letter,
    }
}

/// Hepburn romaji of a (folded, katakana) reading, lower case ASCII; `None` when the reading
/// holds anything the converter cannot spell.
pub fn romaji_of_reading(reading: &str) -> Option<String> {
    let romaji = reading.to_romaji();
    let compact_romaji = compact(&romaji.to_lowercase());
    is_latin(&compact_romaji).then_some(compact_romaji)
}

/// Folded kana with the long-vowel mark written out as the vowel (`モール` → `モウル`), the
/// way a traveller typing kana often spells it; applied to readings and kana queries alike.
pub fn expand_long_marks(folded_kana: &str) -> String {
    fold(&folded_kana.to_hiragana())
}

/// Particles a name may write between kanji (`日の田`, `霞ヶ関`) with the reading syllable each
/// stands for (after [`fold`]).
const PARTICLES: &[(char, &str)] =
    &[('ノ', "ノ"), ('ケ', "ガ"), ('ケ', "ケ"), ('ガ', "ガ"), ('ツ', "ツ")];

/// The folded reading, and variants with a particle's syllable dropped when the folded name
/// writes that particle between other characters (`ヒノタ` → also `ヒタ`), at most a few.
pub fn reading_variants(folded_name: &str, folded_reading: &str) -> Vec<String> {
    let mut variants = vec![folded_reading.to_owned()];
    let name_chars: Vec<char> = folded_name.chars().collect();
    for (particle, syllable) in PARTICLES {
        let inner = name_chars.len() > 2 && name_chars[1..name_chars.len() - 1].contains(particle);
        if !inner {
            continue;
        }
        for (offset, _) in folded_reading.match_indices(syllable).take(3) {
            if offset == 0 || offset + syllable.len() == folded_reading.len() {
                continue;
            }
            let mut dropped = String::with_capacity(folded_reading.len());
            dropped.push_str(&folded_reading[..offset]);
            dropped.push_str(&folded_reading[offset + syllable.len()..]);
            if !variants.contains(&dropped) {
                variants.push(dropped);
            }
        }
    }
    variants
}

/// Levenshtein distance allowed for a fuzzy query of `length` characters: none up to 3, one up
/// to 7, two from 8.
pub fn fuzzy_distance(length: usize) -> u8 {
    match length {
        0..=3 => 0,
        4..=7 => 1,
        _ => 2,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fold_unifies_width_case_and_kana_script() {
        assert_eq!(fold("ＯＫＡＹＡＭＡ"), "okayama");
        assert_eq!(fold("ｵｶﾔﾏ"), "オカヤマ");
        assert_eq!(fold("めいのはま"), "メイノハマ");
        assert_eq!(fold("霞ヶ関"), "霞ケ関");
    }

    #[test]
    fn words_split_on_punctuation() {
        assert_eq!(words(&fold("Times Sq-42 St")), vec!["times", "sq", "42", "st"]);
        assert_eq!(
            words(&fold("Jamaica Center-Parsons/Archer")),
            vec!["jamaica", "center", "parsons", "archer"]
        );
        assert_eq!(compact(&fold("Okayama Sta.")), "okayamasta");
    }

    #[test]
    fn loose_romaji_merges_long_vowel_spellings() {
        let expected = loose_romaji("daigakubyoin");
        for spelling in ["daigakubyouin", "daigakubyooin", "daigakubyōin", "daigakubyoin"] {
            assert_eq!(loose_romaji(spelling), expected, "{spelling}");
        }
        assert_eq!(loose_romaji("samban"), loose_romaji("sanban"));
        assert_eq!(loose_romaji("hatchobori"), loose_romaji("hacchoubori"));
    }

    #[test]
    fn romaji_from_katakana_and_hiragana_readings() {
        assert_eq!(romaji_of_reading(&fold("オカヤマエキ")).as_deref(), Some("okayamaeki"));
        assert_eq!(romaji_of_reading(&fold("めいのはま")).as_deref(), Some("meinohama"));
        let long = romaji_of_reading(&fold("ノウキョウ")).unwrap_or_default();
        assert_eq!(loose_romaji(&long), "nokyo");
    }

    #[test]
    fn long_vowel_marks_are_written_out() {
        assert_eq!(
            expand_long_marks(&fold("イオンモール")),
            expand_long_marks(&fold("いおんもうる"))
        );
    }

    #[test]
    fn particles_are_optional() {
        let variants = reading_variants(&fold("日の田"), &fold("ヒノタ"));
        assert!(variants.contains(&"ヒタ".to_owned()), "{variants:?}");
        assert_eq!(reading_variants(&fold("大野"), &fold("オオノ")), vec!["オオノ".to_owned()]);
    }

    #[test]
    fn abbreviations_fold_both_ways() {
        assert_eq!(canonical_word("street"), "st");
        assert_eq!(canonical_word("square"), "sq");
        assert_eq!(canonical_word("times"), "times");
        assert!(word_expansions("sq").contains(&"square"));
    }
}
