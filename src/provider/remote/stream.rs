//! Decoders for streamed answers that arrive in pieces of any size: JSON lines (E2B's
//! code interpreter) and Connect-RPC envelopes (E2B's envd).

use serde_json::Value;

/// Splits a byte stream into JSON values, one per line; blank lines are skipped and a
/// line that is not JSON is returned as an error string.
#[derive(Default)]
pub struct JsonLines {
    pending: Vec<u8>,
}

impl JsonLines {
    pub fn feed(&mut self, piece: &[u8]) -> Vec<Result<Value, String>> {
        self.pending.extend_from_slice(piece);
        let mut out = Vec::new();
        while let Some(end) = self.pending.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = self.pending.drain(..=end).collect();
            if let Some(value) = parse_line(&line[..end]) {
                out.push(value);
            }
        }
        out
    }

    /// A last line without its newline.
    pub fn finish(&mut self) -> Option<Result<Value, String>> {
        let line = std::mem::take(&mut self.pending);
        parse_line(&line)
    }
}

fn parse_line(line: &[u8]) -> Option<Result<Value, String>> {
    if line.iter().all(u8::is_ascii_whitespace) {
        return None;
    }
    Some(serde_json::from_slice(line).map_err(|_| String::from_utf8_lossy(line).into_owned()))
}

/// The flag of a Connect envelope that ends a stream.
pub const END_STREAM: u8 = 0x02;
/// The flag of a compressed envelope, which rock never asks for.
const COMPRESSED: u8 = 0x01;

/// One Connect streaming envelope: 1 flag byte, a 4-byte big-endian length, the message.
#[derive(Debug, Clone, PartialEq)]
pub struct Envelope {
    pub flags: u8,
    pub message: Vec<u8>,
}

impl Envelope {
    pub fn encode(flags: u8, message: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(5 + message.len());
        out.push(flags);
        out.extend_from_slice(&(message.len() as u32).to_be_bytes());
        out.extend_from_slice(message);
        out
    }

    pub fn is_end(&self) -> bool {
        self.flags & END_STREAM != 0
    }
}

/// Cuts a byte stream into Connect envelopes.
#[derive(Default)]
pub struct Envelopes {
    pending: Vec<u8>,
}

/// Envelopes larger than this are refused: a broken stream, not a message.
const LARGEST: usize = 64 << 20;

impl Envelopes {
    pub fn feed(&mut self, piece: &[u8]) -> Result<Vec<Envelope>, String> {
        self.pending.extend_from_slice(piece);
        let mut out = Vec::new();
        while self.pending.len() >= 5 {
            let flags = self.pending[0];
            let length = u32::from_be_bytes([
                self.pending[1],
                self.pending[2],
                self.pending[3],
                self.pending[4],
            ]) as usize;
            if length > LARGEST {
                return Err(format!("a stream envelope of {length} bytes"));
            }
            if flags & COMPRESSED != 0 {
                return Err("a compressed stream envelope, which rock did not ask for".into());
            }
            if self.pending.len() < 5 + length {
                break;
            }
            let message = self.pending[5..5 + length].to_vec();
            self.pending.drain(..5 + length);
            out.push(Envelope { flags, message });
        }
        Ok(out)
    }

    /// Whether bytes of an unfinished envelope are left.
    pub fn has_partial(&self) -> bool {
        !self.pending.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn json_lines_arrive_in_any_pieces() {
        let stream = b"{\"type\":\"stdout\",\"text\":\"a\\n\"}\n\n{\"type\":\"end_of_execution\"}\nnot json\n{\"x\":1}";
        for size in [1, 5, stream.len()] {
            let mut lines = JsonLines::default();
            let mut got = Vec::new();
            for piece in stream.chunks(size) {
                got.extend(lines.feed(piece));
            }
            got.extend(lines.finish());
            assert_eq!(
                got,
                vec![
                    Ok(json!({"type":"stdout","text":"a\n"})),
                    Ok(json!({"type":"end_of_execution"})),
                    Err("not json".to_string()),
                    Ok(json!({"x":1})),
                ]
            );
        }
    }

    #[test]
    fn envelopes_round_trip_in_any_pieces() {
        let mut stream = Envelope::encode(0, br#"{"event":{"start":{"pid":7}}}"#);
        stream.extend(Envelope::encode(0, b"{}"));
        stream.extend(Envelope::encode(END_STREAM, b"{}"));
        for size in [1, 3, stream.len()] {
            let mut envelopes = Envelopes::default();
            let mut got = Vec::new();
            for piece in stream.chunks(size) {
                got.extend(envelopes.feed(piece).unwrap());
            }
            assert_eq!(got.len(), 3);
            assert_eq!(got[0].message, br#"{"event":{"start":{"pid":7}}}"#);
            assert!(!got[1].is_end());
            assert!(got[2].is_end());
            assert!(!envelopes.has_partial());
        }
    }

    #[test]
    fn the_envelope_header_is_five_bytes_big_endian() {
        assert_eq!(Envelope::encode(2, b"{}"), [2, 0, 0, 0, 2, b'{', b'}']);
        let mut envelopes = Envelopes::default();
        assert!(envelopes.feed(&[1, 0, 0, 0, 0]).is_err());
    }
}
