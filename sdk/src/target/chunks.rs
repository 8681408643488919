//! The input side of the parallel load path: the input read in large chunks cut at line ends,
//! and the lines of a chunk read with exactly the verdicts of
//! [`MessageReader`](crate::message::MessageReader) (line numbers, blank lines, line endings,
//! UTF-8 errors).

use std::io::{self, BufRead};

use crate::error::{Error, Result};

/// The input bytes a chunk takes before it is cut at the next line end; a longer line makes a
/// longer chunk.
pub(super) const CHUNK_BYTES: usize = 256 * 1024;

/// Reads `input` in chunks that end at a line end (the last one may end without one), calling
/// `each` with every chunk and the number of its first line, as soon as the input has given
/// a whole line (a slow producer's lines are not held back to fill a chunk). Stops when `each`
/// returns `false`.
///
/// # Errors
/// [`Error::Io`] when reading fails; the chunks before it were handed to `each`.
pub(super) fn read_chunks<R: BufRead>(
    input: &mut R,
    limit: usize,
    mut each: impl FnMut(Vec<u8>, u64) -> bool,
) -> Result<()> {
    let mut pending: Vec<u8> = Vec::new();
    let mut next_line = 1u64;
    loop {
        let buffer = match input.fill_buf() {
            Ok(buffer) => buffer,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(Error::io("cannot read input", e)),
        };
        if buffer.is_empty() {
            if !pending.is_empty() {
                each(pending, next_line);
            }
            return Ok(());
        }
        let room = limit.saturating_sub(pending.len()).min(buffer.len());
        let cut = memchr::memrchr(b'\n', &buffer[..room])
            .or_else(|| memchr::memchr(b'\n', &buffer[room..]).map(|at| room + at));
        let Some(end) = cut else {
            let taken = buffer.len();
            pending.extend_from_slice(buffer);
            input.consume(taken);
            continue;
        };
        pending.extend_from_slice(&buffer[..=end]);
        input.consume(end + 1);
        let chunk = std::mem::take(&mut pending);
        let first = next_line;
        next_line += memchr::memchr_iter(b'\n', &chunk).count() as u64;
        if !each(chunk, first) {
            return Ok(());
        }
    }
}

/// Calls `each` with the number, start offset and bytes (line end included) of every line of
/// `chunk`, whose first line is number `first`; stops when `each` returns `false`.
pub(super) fn each_line(chunk: &[u8], first: u64, mut each: impl FnMut(u64, usize, &[u8]) -> bool) {
    let mut start = 0;
    let mut number = first;
    while start < chunk.len() {
        let end = memchr::memchr(b'\n', &chunk[start..]).map_or(chunk.len(), |at| start + at + 1);
        if !each(number, start, &chunk[start..end]) {
            return;
        }
        number += 1;
        start = end;
    }
}

/// The text of line `number` as [`MessageReader`](crate::message::MessageReader) reads it:
/// without its line ending, `None` when blank.
///
/// # Errors
/// [`Error::Message`] when the line is not UTF-8, as the reader words it.
pub(super) fn text_of(raw: &[u8], number: u64) -> Result<Option<&str>> {
    let Ok(text) = std::str::from_utf8(raw) else {
        return Err(Error::Message {
            line: number,
            message: "input is not valid UTF-8; Singer messages are UTF-8 JSON".to_owned(),
            excerpt: String::new(),
        });
    };
    let trimmed = text.trim_end_matches(['\n', '\r']);
    Ok((!trimmed.trim().is_empty()).then_some(trimmed))
}

#[cfg(test)]
mod tests {
    use std::io::BufReader;

    use proptest::prelude::*;

    use super::*;
    use crate::message::{Message, MessageReader};

    /// A line's verdict: its number and message, or the error's text (the last item).
    type Verdicts = Vec<(u64, std::result::Result<Message, String>)>;

    /// What [`MessageReader`] makes of `input`, up to its first error.
    fn line_by_line(input: &[u8]) -> Verdicts {
        let mut reader = MessageReader::new(input);
        let mut verdicts = Vec::new();
        loop {
            match reader.next_message() {
                Ok(Some(message)) => verdicts.push((reader.line_number(), Ok(message))),
                Ok(None) => return verdicts,
                Err(error) => {
                    verdicts.push((0, Err(error.to_string())));
                    return verdicts;
                }
            }
        }
    }

    /// What the chunked reader makes of `input`, read through a `capacity`-byte buffer in
    /// chunks of about `limit` bytes.
    fn chunked(input: &[u8], capacity: usize, limit: usize) -> Verdicts {
        let mut reader = BufReader::with_capacity(capacity, input);
        let mut verdicts = Vec::new();
        let mut failed = false;
        read_chunks(&mut reader, limit, |chunk, first| {
            each_line(&chunk, first, |number, _, raw| {
                let verdict = text_of(raw, number)
                    .and_then(|text| text.map(|t| Message::parse(t, number)).transpose());
                match verdict {
                    Ok(None) => {}
                    Ok(Some(message)) => verdicts.push((number, Ok(message))),
                    Err(error) => {
                        verdicts.push((0, Err(error.to_string())));
                        failed = true;
                    }
                }
                !failed
            });
            !failed
        })
        .expect("reading a slice cannot fail");
        verdicts
    }

    fn message_line() -> impl Strategy<Value = Vec<u8>> {
        let valid = prop_oneof![
            Just(r#"{"type":"SCHEMA","stream":"s","schema":{"properties":{"id":{"type":"integer"}}},"key_properties":["id"]}"#.to_owned()),
            (any::<i64>(), "[a-zé\"\\\\\t ]{0,12}").prop_map(|(id, text)| {
                serde_json::json!({"type": "RECORD", "stream": "s", "record": {"id": id, "t": text}}).to_string()
            }),
            any::<u32>().prop_map(|n| format!(r#"{{"type":"STATE","value":{{"n":{n}}}}}"#)),
            Just(r#"{"type":"record","stream":"s","record":[1]}"#.to_owned()),
            Just(r#"{"type":"ACTIVATE_VERSION","stream":"s","version":1.5}"#.to_owned()),
            Just(r#"{"type":"OTHER","x":1}"#.to_owned()),
            Just("[1,2]".to_owned()),
        ];
        prop_oneof![
            4 => valid.clone().prop_map(String::into_bytes),
            // Truncated anywhere (possibly inside a multi-byte character).
            2 => (valid, any::<prop::sample::Index>()).prop_map(|(line, cut)| {
                let bytes = line.into_bytes();
                let at = cut.index(bytes.len() + 1);
                bytes[..at].to_vec()
            }),
            1 => prop::collection::vec(any::<u8>().prop_filter("no line end", |b| *b != b'\n'), 0..24),
            1 => prop_oneof![Just(Vec::new()), Just(b"  \t".to_vec()), Just(b"\r".to_vec())],
        ]
    }

    fn input() -> impl Strategy<Value = Vec<u8>> {
        (
            prop::collection::vec((message_line(), any::<bool>()), 0..24),
            any::<bool>(),
        )
            .prop_map(|(lines, final_end)| {
                let mut input = Vec::new();
                let count = lines.len();
                for (n, (line, crlf)) in lines.into_iter().enumerate() {
                    input.extend_from_slice(&line);
                    if n + 1 < count || final_end {
                        input.extend_from_slice(if crlf { b"\r\n" } else { b"\n" });
                    }
                }
                input
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        /// Random, truncated and malformed lines, cut into chunks of any size through buffers
        /// of any size, get the verdicts `serde_json` gives them line by line.
        #[test]
        fn chunks_read_like_lines(input in input(), capacity in 1usize..96, limit in 1usize..160) {
            prop_assert_eq!(chunked(&input, capacity, limit), line_by_line(&input));
        }
    }

    #[test]
    fn chunks_end_at_line_ends_and_count_lines() {
        let input = b"a\nbb\n\nccc\nlast";
        let mut chunks = Vec::new();
        read_chunks(&mut &input[..], 4, |chunk, first| {
            chunks.push((String::from_utf8(chunk).unwrap(), first));
            true
        })
        .unwrap();
        assert_eq!(
            chunks,
            [
                ("a\n".to_owned(), 1),
                ("bb\n\n".to_owned(), 2),
                ("ccc\n".to_owned(), 4),
                ("last".to_owned(), 5)
            ]
        );
    }
}
