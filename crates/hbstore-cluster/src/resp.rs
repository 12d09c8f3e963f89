//! RESP2, the Redis protocol: commands out as arrays of bulk strings,
//! replies in as the five reply types. Binary-safe both ways.

use std::io::{self, BufRead, Write};

/// A reply from a node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// `+OK` and the like.
    Status(String),
    /// `-ERR ...`: an error the node reports (also `MOVED`, `ASK`, ...).
    Error(String),
    /// `:n`.
    Int(i64),
    /// `$n` bytes, or the null bulk string.
    Bulk(Option<Vec<u8>>),
    /// `*n` replies, or the null array.
    Array(Option<Vec<Reply>>),
}

impl Reply {
    /// The bytes of a bulk or status reply.
    pub fn bytes(&self) -> Option<&[u8]> {
        match self {
            Reply::Bulk(Some(b)) => Some(b),
            Reply::Status(s) => Some(s.as_bytes()),
            _ => None,
        }
    }

    /// The items of an array reply (a null array is empty).
    pub fn items(&self) -> &[Reply] {
        match self {
            Reply::Array(Some(items)) => items,
            _ => &[],
        }
    }

    /// Takes the items of an array reply.
    pub fn into_items(self) -> Vec<Reply> {
        match self {
            Reply::Array(Some(items)) => items,
            _ => Vec::new(),
        }
    }

    /// Takes the bytes of a bulk reply.
    pub fn into_bytes(self) -> Option<Vec<u8>> {
        match self {
            Reply::Bulk(b) => b,
            Reply::Status(s) => Some(s.into_bytes()),
            _ => None,
        }
    }
}

/// A command: its arguments, the first being the command's name.
#[derive(Debug, Clone, Default)]
pub struct Cmd {
    args: Vec<Vec<u8>>,
}

impl Cmd {
    /// A command named `name`.
    pub fn new(name: &str) -> Self {
        Cmd {
            args: vec![name.as_bytes().to_vec()],
        }
    }

    /// Adds an argument.
    pub fn arg(mut self, arg: impl AsRef<[u8]>) -> Self {
        self.args.push(arg.as_ref().to_vec());
        self
    }

    /// Adds an argument in place.
    pub fn push(&mut self, arg: impl AsRef<[u8]>) {
        self.args.push(arg.as_ref().to_vec());
    }

    /// The command's name, for messages.
    pub fn name(&self) -> String {
        String::from_utf8_lossy(&self.args[0]).into_owned()
    }

    /// Writes the command to `out`.
    pub fn write_to(&self, out: &mut impl Write) -> io::Result<()> {
        write!(out, "*{}\r\n", self.args.len())?;
        for arg in &self.args {
            write!(out, "${}\r\n", arg.len())?;
            out.write_all(arg)?;
            out.write_all(b"\r\n")?;
        }
        Ok(())
    }
}

/// Deeper nesting than any reply hbstore asks for is a broken peer.
const MAX_DEPTH: usize = 8;
/// A bulk string larger than Redis allows (512 MiB) is a broken peer.
const MAX_BULK: usize = 512 << 20;

/// Reads one reply.
pub fn read(input: &mut impl BufRead) -> io::Result<Reply> {
    read_at(input, 0)
}

fn read_at(input: &mut impl BufRead, depth: usize) -> io::Result<Reply> {
    if depth > MAX_DEPTH {
        return Err(bad("replies nested too deep"));
    }
    let line = read_line(input)?;
    let (kind, rest) = line.split_first().ok_or_else(|| bad("an empty line"))?;
    let text = || String::from_utf8_lossy(rest).into_owned();
    match kind {
        b'+' => Ok(Reply::Status(text())),
        b'-' => Ok(Reply::Error(text())),
        b':' => Ok(Reply::Int(number(rest)?)),
        b'$' => {
            let len = number(rest)?;
            if len < 0 {
                return Ok(Reply::Bulk(None));
            }
            let len = usize::try_from(len).map_err(|_| bad("a bulk length"))?;
            if len > MAX_BULK {
                return Err(bad("a bulk string over 512 MiB"));
            }
            let mut bytes = vec![0; len + 2];
            input.read_exact(&mut bytes)?;
            if !bytes.ends_with(b"\r\n") {
                return Err(bad("a bulk string not ended by CRLF"));
            }
            bytes.truncate(len);
            Ok(Reply::Bulk(Some(bytes)))
        }
        b'*' => {
            let len = number(rest)?;
            if len < 0 {
                return Ok(Reply::Array(None));
            }
            let len = usize::try_from(len).map_err(|_| bad("an array length"))?;
            let mut items = Vec::with_capacity(len.min(1024));
            for _ in 0..len {
                items.push(read_at(input, depth + 1)?);
            }
            Ok(Reply::Array(Some(items)))
        }
        _ => Err(bad("an unknown reply type")),
    }
}

fn read_line(input: &mut impl BufRead) -> io::Result<Vec<u8>> {
    let mut line = Vec::new();
    input.read_until(b'\n', &mut line)?;
    if line.is_empty() {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "the node closed the connection",
        ));
    }
    if !line.ends_with(b"\r\n") {
        return Err(bad("a line not ended by CRLF"));
    }
    line.truncate(line.len() - 2);
    Ok(line)
}

fn number(text: &[u8]) -> io::Result<i64> {
    std::str::from_utf8(text)
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| bad("a number that does not parse"))
}

fn bad(what: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("protocol error: {what}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(bytes: &[u8]) -> io::Result<Reply> {
        read(&mut &bytes[..])
    }

    #[test]
    fn commands_are_arrays_of_bulk_strings() {
        let mut out = Vec::new();
        Cmd::new("SET")
            .arg("k")
            .arg(b"a\r\nb")
            .write_to(&mut out)
            .unwrap();
        assert_eq!(out, b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$4\r\na\r\nb\r\n");
    }

    #[test]
    fn every_reply_type_parses() {
        assert_eq!(parse(b"+OK\r\n").unwrap(), Reply::Status("OK".into()));
        assert_eq!(
            parse(b"-MOVED 1 h:1\r\n").unwrap(),
            Reply::Error("MOVED 1 h:1".into())
        );
        assert_eq!(parse(b":-3\r\n").unwrap(), Reply::Int(-3));
        assert_eq!(parse(b"$-1\r\n").unwrap(), Reply::Bulk(None));
        assert_eq!(
            parse(b"$2\r\n\r\n\r\n").unwrap(),
            Reply::Bulk(Some(b"\r\n".to_vec()))
        );
        assert_eq!(
            parse(b"*2\r\n:1\r\n*-1\r\n").unwrap(),
            Reply::Array(Some(vec![Reply::Int(1), Reply::Array(None)]))
        );
    }

    #[test]
    fn broken_replies_are_errors_not_panics() {
        for broken in [
            &b""[..],
            b"?\r\n",
            b"$5\r\nab\r\n",
            b"$x\r\n",
            b"$999999999999\r\n",
            b"*1\r\n",
            b"+OK",
            b"*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n:1\r\n",
        ] {
            assert!(parse(broken).is_err(), "{broken:?}");
        }
    }
}
