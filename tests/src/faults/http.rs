//! HTTP/1.1 as the proxy needs it: whole messages off a stream, and DynamoDB's errors.

use std::io;

use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;

/// One HTTP/1.1 message (head and body, as bytes), or None when the peer closed
/// between messages. `buffer` keeps what was read past the message.
pub(super) async fn read_message(
    stream: &mut TcpStream,
    buffer: &mut Vec<u8>,
) -> io::Result<Option<Vec<u8>>> {
    let head_end = loop {
        if let Some(at) = find(buffer, b"\r\n\r\n") {
            break at + 4;
        }
        if !fill(stream, buffer).await? {
            return if buffer.is_empty() { Ok(None) } else { Err(io::ErrorKind::UnexpectedEof.into()) };
        }
    };
    let head = String::from_utf8_lossy(&buffer[..head_end]).to_ascii_lowercase();
    let length = head
        .lines()
        .find_map(|line| line.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse::<usize>().ok());
    let end = if let Some(length) = length {
        while buffer.len() < head_end + length {
            if !fill(stream, buffer).await? {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
        }
        head_end + length
    } else if head.contains("transfer-encoding: chunked") {
        chunked_end(stream, buffer, head_end).await?
    } else {
        head_end
    };
    Ok(Some(buffer.drain(..end).collect()))
}

/// Where a chunked body that starts at `start` ends (after its last chunk's CRLF).
async fn chunked_end(stream: &mut TcpStream, buffer: &mut Vec<u8>, start: usize) -> io::Result<usize> {
    let mut at = start;
    loop {
        let line_end = loop {
            if let Some(i) = find(&buffer[at..], b"\r\n") {
                break at + i;
            }
            if !fill(stream, buffer).await? {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
        };
        let size_text = String::from_utf8_lossy(&buffer[at..line_end]).to_string();
        let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
            .map_err(|_| io::Error::other(format!("bad chunk size {size_text:?}")))?;
        let next = line_end + 2 + size + 2;
        while buffer.len() < next {
            if !fill(stream, buffer).await? {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
        }
        at = next;
        if size == 0 {
            return Ok(at);
        }
    }
}

async fn fill(stream: &mut TcpStream, buffer: &mut Vec<u8>) -> io::Result<bool> {
    let mut chunk = [0u8; 16 * 1024];
    let n = stream.read(&mut chunk).await?;
    buffer.extend_from_slice(&chunk[..n]);
    Ok(n > 0)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

pub(super) fn throttled() -> Vec<u8> {
    dynamodb_error(
        400,
        "Bad Request",
        "ProvisionedThroughputExceededException",
        "The level of configured provisioned throughput for the table was exceeded. (injected)",
    )
}

pub(super) fn server_error() -> Vec<u8> {
    dynamodb_error(500, "Internal Server Error", "InternalServerError", "Internal server error (injected)")
}

/// An error as DynamoDB answers it.
fn dynamodb_error(status: u16, reason: &str, code: &str, message: &str) -> Vec<u8> {
    let body = serde_json::json!({
        "__type": format!("com.amazonaws.dynamodb.v20120810#{code}"),
        "message": message,
    })
    .to_string();
    format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: application/x-amz-json-1.0\r\nContent-Length: {}\r\n\
         x-amzn-RequestId: injected-fault\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}
