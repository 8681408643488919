//! Records as JSON text for targets that take them so: a RECORD line's `record` text is
//! copied as it is, with the `_sdc_*` columns appended, when it is byte for byte what
//! `serde_json` writes for the record read from it; any other record is serialised.
//!
//! The text qualifies when it is compact (no whitespace between tokens), its escapes are the
//! ones `serde_json` writes (`\"`, `\\`, `\b`, `\f`, `\n`, `\r`, `\t`, and `\u00xx` for other
//! control characters), each number is written as `serde_json` writes the value it reads from
//! it, no key repeats within an object, no top-level key starts with `_sdc_`, and the runtime
//! did not rewrite a date-time of the record.

use std::ops::Range;

use serde_json::ser::{CompactFormatter, Formatter};
use serde_json::{Map, Value};

use crate::sink::json::{write_entry, write_record};

use super::metadata::{BATCHED_AT, COLUMNS};

/// A RECORD line's `record` text that qualifies for copying, with what the record read from
/// it must have for the copy to be exact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct RecordText {
    /// Where the text is in its line.
    pub(super) span: Range<usize>,
    /// The number of top-level keys.
    top_keys: usize,
    /// The number of keys of the nested objects.
    nested_keys: usize,
}

/// Appends `record`, as the runtime checked it, to `out` as one JSON line (`\n` included):
/// `text` (the record's text in `line`) copied when it qualifies, else the record serialised.
/// With `metadata`, the value of `_sdc_batched_at` is left out and its offset in `out`
/// returned.
pub(super) fn encode(
    record: &Map<String, Value>,
    line: Option<(&[u8], RecordText)>,
    metadata: bool,
    out: &mut Vec<u8>,
) -> Option<usize> {
    let skip = metadata.then_some(BATCHED_AT);
    let stamped = if metadata { COLUMNS.len() } else { 0 };
    let copy = line.filter(|(_, text)| {
        record.len() == text.top_keys + stamped && nested_keys(record.values()) == text.nested_keys
    });
    let Some((line, text)) = copy else {
        return write_record(record, skip, out);
    };
    let text = &line[text.span];
    if !metadata {
        out.extend_from_slice(text);
        out.push(b'\n');
        return None;
    }
    // The record's own fields, then the columns stamped after them.
    out.extend_from_slice(&text[..text.len() - 1]);
    let own = record.len() - stamped;
    let mut slot = None;
    for (n, (key, value)) in record.iter().skip(own).enumerate() {
        if own > 0 || n > 0 {
            out.push(b',');
        }
        slot = slot.or(write_entry(key, value, skip, out));
    }
    out.extend_from_slice(b"}\n");
    slot
}

/// The number of keys of the objects nested in `values`, at any depth.
fn nested_keys<'a>(values: impl Iterator<Item = &'a Value>) -> usize {
    values
        .map(|value| match value {
            Value::Object(map) => map.len() + nested_keys(map.values()),
            Value::Array(items) => nested_keys(items.iter()),
            _ => 0,
        })
        .sum()
}

/// The `record` text of a RECORD line that parsed, if the line names `record` literally and
/// the text qualifies for copying.
pub(super) fn record_text(line: &[u8]) -> Option<RecordText> {
    let mut scan = Scan { text: line, at: 0 };
    scan.blank();
    scan.eat(b'{')?;
    let mut found = None;
    loop {
        scan.blank();
        if scan.peek()? == b'}' {
            break;
        }
        let key = scan.string(false)?;
        scan.blank();
        scan.eat(b':')?;
        scan.blank();
        if &line[key] == b"record" {
            if found.is_some() {
                return None;
            }
            let start = scan.at;
            let mut counts = (0, 0);
            scan.object(true, &mut counts)?;
            found = Some(RecordText {
                span: start..scan.at,
                top_keys: counts.0,
                nested_keys: counts.1,
            });
        } else {
            scan.loose_value()?;
        }
        scan.blank();
        match scan.next()? {
            b',' => {}
            b'}' => break,
            _ => return None,
        }
    }
    found
}

struct Scan<'a> {
    text: &'a [u8],
    at: usize,
}

impl Scan<'_> {
    fn peek(&self) -> Option<u8> {
        self.text.get(self.at).copied()
    }

    fn next(&mut self) -> Option<u8> {
        let byte = self.peek()?;
        self.at += 1;
        Some(byte)
    }

    fn eat(&mut self, byte: u8) -> Option<()> {
        (self.next()? == byte).then_some(())
    }

    fn literal(&mut self, word: &[u8]) -> Option<()> {
        let end = self.at + word.len();
        (self.text.get(self.at..end)? == word).then(|| self.at = end)
    }

    /// Skips whitespace (outside the record text only).
    fn blank(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.at += 1;
        }
    }

    /// Skips a value of the envelope.
    fn loose_value(&mut self) -> Option<()> {
        let mut depth = 0usize;
        loop {
            match self.peek()? {
                b'"' => {
                    self.string(false)?;
                }
                b'{' | b'[' => {
                    depth += 1;
                    self.at += 1;
                }
                b'}' | b']' if depth > 0 => {
                    depth -= 1;
                    self.at += 1;
                }
                b',' | b'}' | b']' if depth == 0 => return Some(()),
                _ => self.at += 1,
            }
            if depth == 0 && matches!(self.peek(), Some(b',' | b'}' | b']') | None) {
                return Some(());
            }
        }
    }

    /// A value of the record text, checked to be as `serde_json` writes it; `counts` gathers
    /// the keys of the top-level object and of the nested ones.
    fn value(&mut self, counts: &mut (usize, usize)) -> Option<()> {
        match self.peek()? {
            b'{' => self.object(false, counts),
            b'[' => {
                self.at += 1;
                if self.peek()? == b']' {
                    self.at += 1;
                    return Some(());
                }
                loop {
                    self.value(counts)?;
                    match self.next()? {
                        b',' => {}
                        b']' => return Some(()),
                        _ => return None,
                    }
                }
            }
            b'"' => self.string(true).map(drop),
            b't' => self.literal(b"true"),
            b'f' => self.literal(b"false"),
            b'n' => self.literal(b"null"),
            _ => self.number(),
        }
    }

    fn object(&mut self, top: bool, counts: &mut (usize, usize)) -> Option<()> {
        self.eat(b'{')?;
        if self.peek()? == b'}' {
            self.at += 1;
            return Some(());
        }
        loop {
            let key = self.string(true)?;
            if top {
                if self.text[key].starts_with(b"_sdc_") {
                    return None;
                }
                counts.0 += 1;
            } else {
                counts.1 += 1;
            }
            self.eat(b':')?;
            self.value(counts)?;
            match self.next()? {
                b',' => {}
                b'}' => return Some(()),
                _ => return None,
            }
        }
    }

    /// A string: where its content is. With `strict` (in the record text), its escapes must
    /// be those `serde_json` writes; else (in the envelope) any escape is skipped.
    fn string(&mut self, strict: bool) -> Option<Range<usize>> {
        self.eat(b'"')?;
        let start = self.at;
        loop {
            let at = quote_or_backslash(self.text, self.at)?;
            self.at = at + 1;
            if self.text[at] == b'"' {
                return Some(start..at);
            }
            if !strict {
                self.at += 1;
                continue;
            }
            match self.next()? {
                b'"' | b'\\' | b'b' | b'f' | b'n' | b'r' | b't' => {}
                b'u' => {
                    // serde_json writes `\u00xx`, lower-case, for the control characters
                    // without a short escape.
                    let code = match *self.text.get(self.at..self.at + 4)? {
                        [b'0', b'0', high @ (b'0' | b'1'), low] => {
                            let low = match low {
                                b'0'..=b'9' => low - b'0',
                                b'a'..=b'f' => low - b'a' + 10,
                                _ => return None,
                            };
                            (high - b'0') * 16 + low
                        }
                        _ => return None,
                    };
                    if matches!(code, 0x08 | 0x09 | 0x0a | 0x0c | 0x0d) {
                        return None;
                    }
                    self.at += 4;
                }
                _ => return None,
            }
        }
    }

    /// Skips digits; returns how many there were.
    fn digits(&mut self) -> usize {
        let start = self.at;
        while let Some(b'0'..=b'9') = self.text.get(self.at) {
            self.at += 1;
        }
        self.at - start
    }

    /// A number written as `serde_json` writes the value it reads from it.
    fn number(&mut self) -> Option<()> {
        let start = self.at;
        let negative = self.peek() == Some(b'-');
        if negative {
            self.at += 1;
        }
        let whole = self.at..self.at + self.digits();
        if whole.is_empty() {
            return None;
        }
        if !matches!(self.peek(), Some(b'.' | b'e' | b'E')) {
            // An integer is read as u64 or i64 when it fits (else as a float); `-0` is read
            // as the float -0.0.
            if negative && self.text[whole.clone()] == *b"0" {
                return None;
            }
            if whole.len() < 19 {
                return Some(());
            }
            let token = std::str::from_utf8(&self.text[start..self.at]).ok()?;
            let fits = if negative {
                token.parse::<i64>().is_ok()
            } else {
                token.parse::<u64>().is_ok()
            };
            return fits.then_some(());
        }
        let mut fraction = self.at..self.at;
        if self.peek() == Some(b'.') {
            self.at += 1;
            fraction = self.at..self.at + self.digits();
        }
        let mut power = 0i32;
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.at += 1;
            let negative = self.peek() == Some(b'-');
            if matches!(self.peek(), Some(b'-' | b'+')) {
                self.at += 1;
            }
            let digits = self.at..self.at + self.digits();
            if digits.is_empty() || digits.len() > 3 {
                return None;
            }
            for &digit in &self.text[digits] {
                power = power * 10 + i32::from(digit - b'0');
            }
            if negative {
                power = -power;
            }
        }
        // serde_json reads a float exactly when its significand and power of ten are both
        // exact in an f64 (at most 15 significant digits, a power of at most 22): then the
        // value is the one computed here, and the text qualifies when it is how that value
        // is written.
        power -= i32::try_from(fraction.len()).ok()?;
        let scale = *POW10.get(usize::try_from(power.unsigned_abs()).ok()?)?;
        let mut significand = 0u64;
        let mut significant = 0;
        for &digit in self.text[whole].iter().chain(&self.text[fraction]) {
            if significand == 0 && digit == b'0' {
                continue;
            }
            significant += 1;
            if significant > MAX_DIGITS {
                return None;
            }
            significand = significand * 10 + u64::from(digit - b'0');
        }
        // Exact: both are exact in an f64 (see above), so the one rounding is serde_json's.
        #[allow(clippy::cast_precision_loss)]
        let magnitude = significand as f64;
        let magnitude = if power >= 0 {
            magnitude * scale
        } else {
            magnitude / scale
        };
        let value = if negative { -magnitude } else { magnitude };
        let mut written = std::io::Cursor::new([0u8; 32]);
        CompactFormatter.write_f64(&mut written, value).ok()?;
        let len = usize::try_from(written.position()).ok()?;
        (written.get_ref()[..len] == self.text[start..self.at]).then_some(())
    }
}

/// Where the first `"` or `\` of `text` at or after `from` is: eight bytes at a time
/// (strings are short, too short for a vectorised search to pay for its set-up; the words
/// may run past the string, as the text goes on after it).
fn quote_or_backslash(text: &[u8], from: usize) -> Option<usize> {
    const ONES: u64 = u64::from_ne_bytes([1; 8]);
    const HIGH: u64 = u64::from_ne_bytes([0x80; 8]);
    const QUOTES: u64 = u64::from_ne_bytes([b'"'; 8]);
    const BACKSLASHES: u64 = u64::from_ne_bytes([b'\\'; 8]);
    let mut at = from;
    while let Some(word) = text.get(at..at + 8) {
        let word = u64::from_le_bytes(word.try_into().ok()?);
        let (quote, backslash) = (word ^ QUOTES, word ^ BACKSLASHES);
        // The lowest byte that is zero in either sets the lowest high bit here.
        let found =
            (quote.wrapping_sub(ONES) & !quote | backslash.wrapping_sub(ONES) & !backslash) & HIGH;
        if found != 0 {
            return Some(at + found.trailing_zeros() as usize / 8);
        }
        at += 8;
    }
    let rest = text.get(at..)?;
    rest.iter()
        .position(|&b| b == b'"' || b == b'\\')
        .map(|found| at + found)
}

/// The most significant digits a float may have to be read exactly.
const MAX_DIGITS: usize = 15;

/// The powers of ten exact in an f64.
const POW10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

#[cfg(test)]
mod tests;
