//! A fixed list of journeys for the route-only load (`norikae-load --queries`): a CSV file
//! with the header `from,to,date,time` (station ids, `YYYY-MM-DD`, `HH:MM[:SS]`), the format
//! of `loadtests/route-bench/queries.csv`, so that the service is loaded with the very
//! queries the in-process benchmark times.

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::{Context, bail, ensure};
use chrono::{NaiveDate, NaiveTime};

use crate::plan::JourneyQuery;

/// The journeys of a query file, handed out in turn.
#[derive(Debug)]
pub struct QueryFile {
    journeys: Vec<JourneyQuery>,
    /// The next journey to hand out; shared by every user, so that the load covers the file
    /// evenly whatever the number of users.
    next: AtomicUsize,
}

impl QueryFile {
    pub fn read(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the query file {}", path.display()))?;
        Self::parse(&text).with_context(|| format!("bad query file {}", path.display()))
    }

    /// Parses the file's text; errors name the line and the field.
    pub fn parse(text: &str) -> anyhow::Result<Self> {
        let mut lines = text.lines().enumerate().filter(|(_, line)| !line.trim().is_empty());
        match lines.next() {
            Some((_, header)) if header.trim() == "from,to,date,time" => {}
            Some((_, header)) => {
                bail!("line 1: header {header:?}, expected \"from,to,date,time\"")
            }
            None => bail!("the file is empty"),
        }
        let journeys = lines
            .map(|(index, line)| parse_line(line).with_context(|| format!("line {}", index + 1)))
            .collect::<anyhow::Result<Vec<_>>>()?;
        ensure!(!journeys.is_empty(), "the file holds a header but no query");
        Ok(Self { journeys, next: AtomicUsize::new(0) })
    }

    pub fn len(&self) -> usize {
        self.journeys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.journeys.is_empty()
    }

    /// The next journey, from the first again after the last.
    pub fn next_journey(&self) -> &JourneyQuery {
        let index = self.next.fetch_add(1, Ordering::Relaxed) % self.journeys.len();
        &self.journeys[index]
    }
}

fn parse_line(line: &str) -> anyhow::Result<JourneyQuery> {
    let fields: Vec<&str> = line.split(',').map(str::trim).collect();
    let &[from, to, date, time] = fields.as_slice() else {
        bail!("{} fields, expected 4 (from,to,date,time): {line:?}", fields.len());
    };
    ensure!(!from.is_empty(), "`from` is empty");
    ensure!(!to.is_empty(), "`to` is empty");
    let date = NaiveDate::parse_from_str(date, "%Y-%m-%d")
        .with_context(|| format!("`date` {date:?} is not YYYY-MM-DD"))?;
    NaiveTime::parse_from_str(time, "%H:%M:%S")
        .or_else(|_| NaiveTime::parse_from_str(time, "%H:%M"))
        .with_context(|| format!("`time` {time:?} is not HH:MM or HH:MM:SS"))?;
    Ok(JourneyQuery { from: from.to_owned(), to: to.to_owned(), date, time: time.to_owned() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn journeys_are_handed_out_in_turn_from_the_first_again() {
        let file = QueryFile::parse(
            "from,to,date,time\nsubway:A03,bus_si:200362,2026-10-14,08:48:45\n\na,b,2026-10-15,07:05\n",
        )
        .unwrap();
        assert_eq!(file.len(), 2);
        let order: Vec<(String, String)> = (0..3)
            .map(|_| {
                let journey = file.next_journey();
                (journey.from.clone(), journey.time.clone())
            })
            .collect();
        assert_eq!(
            order,
            [
                ("subway:A03".to_owned(), "08:48:45".to_owned()),
                ("a".to_owned(), "07:05".to_owned()),
                ("subway:A03".to_owned(), "08:48:45".to_owned()),
            ]
        );
    }

    #[test]
    fn errors_name_the_line_and_the_field() {
        let error = |text: &str| format!("{:#}", QueryFile::parse(text).unwrap_err());
        assert_eq!(
            error("from,to,date,time\na,b,2026-10-14,08:00\na,b,14/10/2026,08:00\n"),
            "line 3: `date` \"14/10/2026\" is not YYYY-MM-DD: input contains invalid characters"
        );
        assert!(error("from,to,date,time\na,b,2026-10-14\n").starts_with("line 2: 3 fields"));
        assert!(error("to,from,date,time\n").starts_with("line 1: header"));
        assert_eq!(error("from,to,date,time\n"), "the file holds a header but no query");
    }

    #[test]
    fn the_route_bench_queries_parse() {
        let path = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../route-bench/queries.csv"));
        let file = QueryFile::read(path).unwrap();
        assert_eq!(file.len(), 1_000);
    }
}
