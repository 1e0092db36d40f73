//! Attachments: what an upload may be (type, size, name), checked before anything is
//! stored. Images are recognised by their first bytes, so a file cannot claim to be a
//! picture it is not.

use serde::{Deserialize, Serialize};

use crate::{ErrorCode, HttpError};

/// The largest attachment, in bytes: 10 MiB.
pub const MAX_FILE_BYTES: usize = 10 * 1024 * 1024;
/// The longest file name kept, in code points.
pub const MAX_FILENAME_CHARS: usize = 120;

/// The content types an upload may have, and the bytes each must start with (if any).
const TYPES: &[(&str, &[&[u8]])] = &[
    ("image/png", &[b"\x89PNG\r\n\x1a\n"]),
    ("image/jpeg", &[b"\xff\xd8\xff"]),
    ("image/gif", &[b"GIF87a", b"GIF89a"]),
    ("image/webp", &[b"RIFF"]),
    ("application/pdf", &[b"%PDF-"]),
    ("application/zip", &[b"PK\x03\x04", b"PK\x05\x06"]),
    ("text/plain", &[]),
    ("application/octet-stream", &[]),
];

/// A file attached to a message, as messages carry it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileRef {
    /// The file's id within its room (random, unguessable).
    pub id: String,
    pub filename: String,
    pub content_type: String,
    pub size: u64,
}

impl FileRef {
    /// Where the file is served: `/room/:room/files/:id`.
    pub fn url(&self, room: &str) -> String {
        format!("/room/{room}/files/{}", self.id)
    }

    /// Whether browsers should show it inline (the images) or download it.
    pub fn is_image(&self) -> bool {
        self.content_type.starts_with("image/")
    }
}

/// Checks an upload: its declared type (parameters such as `; charset=` are dropped), its
/// size, and for types that have one, its signature. Answers the type to store.
pub fn check_upload(content_type: &str, body: &[u8]) -> Result<String, HttpError> {
    if body.is_empty() {
        return Err(HttpError::new(ErrorCode::BadRequest, "the file is empty"));
    }
    if body.len() > MAX_FILE_BYTES {
        return Err(too_large(body.len()));
    }
    let declared = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    let Some((ty, magic)) = TYPES.iter().find(|(t, _)| *t == declared) else {
        return Err(HttpError::new(
            ErrorCode::UnsupportedType,
            format!(
                "files of type {:?} are not accepted; send one of: {}",
                declared,
                TYPES.iter().map(|(t, _)| *t).collect::<Vec<_>>().join(", ")
            ),
        ));
    };
    if !magic.is_empty() && !magic.iter().any(|m| body.starts_with(m)) {
        return Err(HttpError::new(
            ErrorCode::UnsupportedType,
            format!("the file does not look like {ty}"),
        ));
    }
    if *ty == "image/webp" && body.get(8..12) != Some(b"WEBP") {
        return Err(HttpError::new(
            ErrorCode::UnsupportedType,
            "the file does not look like image/webp",
        ));
    }
    Ok((*ty).to_owned())
}

/// The refusal of a body over [`MAX_FILE_BYTES`].
pub fn too_large(len: usize) -> HttpError {
    HttpError::new(
        ErrorCode::TooLarge,
        format!("the file is {len} bytes; the limit is {MAX_FILE_BYTES} (10 MiB)"),
    )
}

/// A file name safe to show and to put in a header: the last path segment, without
/// control or invisible characters or quotes, at most 120 code points; "file" if
/// nothing is left.
pub fn clean_filename(raw: &str) -> String {
    let last = raw.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = last
        .chars()
        .filter(|c| !c.is_control() && !crate::is_invisible(*c) && *c != '"')
        .take(MAX_FILENAME_CHARS)
        .collect();
    let cleaned = cleaned.trim();
    if cleaned.is_empty() || cleaned == "." || cleaned == ".." {
        "file".to_owned()
    } else {
        cleaned.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_sizes_and_signatures_are_checked() {
        let png = b"\x89PNG\r\n\x1a\nrest";
        assert_eq!(check_upload("image/png", png).unwrap(), "image/png");
        assert_eq!(check_upload("IMAGE/PNG; x=1", png).unwrap(), "image/png");
        let e = check_upload("image/jpeg", png).unwrap_err();
        assert_eq!(e.error.code, ErrorCode::UnsupportedType);
        let e = check_upload("image/svg+xml", b"<svg/>").unwrap_err();
        assert_eq!(e.error.code, ErrorCode::UnsupportedType);
        assert!(e.error.message.contains("image/png"));
        let e = check_upload("text/html", b"<script>").unwrap_err();
        assert_eq!(e.error.code, ErrorCode::UnsupportedType);
        assert_eq!(check_upload("text/plain", b"hi").unwrap(), "text/plain");
        assert_eq!(
            check_upload("", b"hi").unwrap_err().error.code,
            ErrorCode::UnsupportedType
        );
        assert_eq!(
            check_upload("text/plain", b"").unwrap_err().error.code,
            ErrorCode::BadRequest
        );
        let webp = b"RIFF\x00\x00\x00\x00WEBPVP8 ";
        assert_eq!(check_upload("image/webp", webp).unwrap(), "image/webp");
        assert!(check_upload("image/webp", b"RIFF\x00\x00\x00\x00WAVEfmt ").is_err());
        let big = vec![b'a'; MAX_FILE_BYTES + 1];
        assert_eq!(
            check_upload("text/plain", &big).unwrap_err().error.code,
            ErrorCode::TooLarge
        );
        assert!(check_upload("text/plain", &big[..MAX_FILE_BYTES]).is_ok());
    }

    #[test]
    fn file_names_are_cleaned() {
        assert_eq!(clean_filename("cat.png"), "cat.png");
        assert_eq!(clean_filename("C:\\Users\\a\\cat.png"), "cat.png");
        assert_eq!(clean_filename("../../etc/passwd"), "passwd");
        assert_eq!(clean_filename("a\"b\u{202e}c\n.txt"), "abc.txt");
        assert_eq!(clean_filename(""), "file");
        assert_eq!(clean_filename(".."), "file");
        assert_eq!(
            clean_filename(&"x".repeat(300)).chars().count(),
            MAX_FILENAME_CHARS
        );
    }
}
