//! An image's format from its first bytes, never from what the sender
//! claims: PNG, JPEG, WebP and GIF, the formats OpenAI's vision models take
//! (API_NOTES 2.11). A GIF is walked block by block: one with more than one
//! frame is animated and refused, one that ends before its trailer is
//! damaged. Nothing here can panic, whatever the bytes (a property test).

use super::input::ImageAttachment;
use super::problems::ProblemKind;
use crate::providers::ImageInput;

/// The image formats duet sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageFormat {
    Png,
    Jpeg,
    Webp,
    Gif,
}

impl ImageFormat {
    pub fn media_type(self) -> &'static str {
        match self {
            ImageFormat::Png => "image/png",
            ImageFormat::Jpeg => "image/jpeg",
            ImageFormat::Webp => "image/webp",
            ImageFormat::Gif => "image/gif",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SniffError {
    #[error("not a PNG, JPEG, WebP or GIF image")]
    NotAnImage,
    #[error("an animated GIF")]
    Animated,
    #[error("the image data is cut short or damaged")]
    Damaged,
}

/// The format of `bytes`, or why they cannot be sent as an image.
pub fn sniff_image(bytes: &[u8]) -> Result<ImageFormat, SniffError> {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        // The first chunk of every PNG is IHDR.
        return match bytes.get(12..16) {
            Some(b"IHDR") => Ok(ImageFormat::Png),
            _ => Err(SniffError::Damaged),
        };
    }
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        return Ok(ImageFormat::Jpeg);
    }
    if bytes.len() >= 12 && bytes.starts_with(b"RIFF") && &bytes[8..12] == b"WEBP" {
        return Ok(ImageFormat::Webp);
    }
    if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        return match gif_frames(bytes) {
            Some(1) => Ok(ImageFormat::Gif),
            Some(0) | None => Err(SniffError::Damaged),
            Some(_) => Err(SniffError::Animated),
        };
    }
    Err(SniffError::NotAnImage)
}

/// Checks `bytes` and makes them an image attachment called `name`.
pub fn image_attachment(name: &str, bytes: bytes::Bytes) -> Result<ImageAttachment, ProblemKind> {
    match sniff_image(&bytes) {
        Ok(format) => Ok(ImageAttachment {
            name: name.to_string(),
            image: ImageInput {
                media_type: format.media_type(),
                bytes,
            },
        }),
        Err(SniffError::Animated) => Err(ProblemKind::Animated),
        Err(SniffError::NotAnImage | SniffError::Damaged) => Err(ProblemKind::Corrupt),
    }
}

/// How many frames (image descriptors) a GIF has; `None` when it ends
/// before its trailer. Stops counting at two: that is already animated.
fn gif_frames(bytes: &[u8]) -> Option<usize> {
    let packed = *bytes.get(10)?;
    let mut at = 13 + color_table_len(packed);
    let mut frames = 0;
    loop {
        match *bytes.get(at)? {
            // Trailer.
            0x3B => return Some(frames),
            // Extension: label, then sub-blocks.
            0x21 => at = skip_sub_blocks(bytes, at + 2)?,
            // Image descriptor: 9 bytes, a local color table, the LZW
            // minimum code size, then the data sub-blocks.
            0x2C => {
                frames += 1;
                if frames > 1 {
                    return Some(frames);
                }
                let packed = *bytes.get(at + 9)?;
                at = skip_sub_blocks(bytes, at + 10 + color_table_len(packed) + 1)?;
            }
            _ => return None,
        }
    }
}

/// The size of the color table a packed field announces (0 when there is none).
fn color_table_len(packed: u8) -> usize {
    if packed & 0x80 == 0 {
        0
    } else {
        3 << ((packed & 0x07) + 1)
    }
}

/// The index just past the sub-blocks starting at `at` (after the 0 terminator).
fn skip_sub_blocks(bytes: &[u8], mut at: usize) -> Option<usize> {
    loop {
        let size = usize::from(*bytes.get(at)?);
        at += 1;
        if size == 0 {
            return Some(at);
        }
        at = at.checked_add(size)?;
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use proptest::prelude::*;

    use super::*;

    /// A minimal valid PNG header (signature and IHDR) followed by `tail`.
    pub fn png(tail: &[u8]) -> Vec<u8> {
        let mut bytes = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
        bytes.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 1, 8, 6, 0, 0, 0]);
        bytes.extend_from_slice(tail);
        bytes
    }

    /// A GIF with `frames` 1×1 frames.
    pub fn gif(frames: usize) -> Vec<u8> {
        let mut bytes = b"GIF89a\x01\x00\x01\x00\x80\x00\x00".to_vec();
        bytes.extend_from_slice(&[0, 0, 0, 255, 255, 255]); // global color table (2 colors)
        // NETSCAPE looping extension, as animated GIFs carry it.
        bytes.extend_from_slice(b"\x21\xFF\x0BNETSCAPE2.0\x03\x01\x00\x00\x00");
        for _ in 0..frames {
            bytes.extend_from_slice(&[0x21, 0xF9, 4, 0, 10, 0, 0, 0]); // graphic control
            bytes.extend_from_slice(&[0x2C, 0, 0, 0, 0, 1, 0, 1, 0, 0]); // descriptor
            bytes.extend_from_slice(&[2, 2, 0x44, 0x01, 0]); // LZW data
        }
        bytes.push(0x3B);
        bytes
    }

    #[test]
    fn each_format_is_known_by_its_first_bytes() {
        assert_eq!(sniff_image(&png(b"")), Ok(ImageFormat::Png));
        assert_eq!(
            sniff_image(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10]),
            Ok(ImageFormat::Jpeg)
        );
        assert_eq!(
            sniff_image(b"RIFF\x24\0\0\0WEBPVP8 "),
            Ok(ImageFormat::Webp)
        );
        assert_eq!(sniff_image(&gif(1)), Ok(ImageFormat::Gif));
    }

    #[test]
    fn an_animated_gif_is_refused_and_a_cut_one_is_damaged() {
        assert_eq!(sniff_image(&gif(2)), Err(SniffError::Animated));
        assert_eq!(sniff_image(&gif(30)), Err(SniffError::Animated));
        let one = gif(1);
        assert_eq!(sniff_image(&one[..one.len() - 3]), Err(SniffError::Damaged));
        assert_eq!(sniff_image(&gif(0)), Err(SniffError::Damaged));
    }

    #[test]
    fn other_bytes_are_not_images_whatever_the_name_says() {
        assert_eq!(sniff_image(b""), Err(SniffError::NotAnImage));
        assert_eq!(sniff_image(b"<svg xmlns="), Err(SniffError::NotAnImage));
        assert_eq!(
            sniff_image(b"\x89PNG\r\n\x1a\nxxxxxxxx"),
            Err(SniffError::Damaged)
        );
        assert_eq!(
            image_attachment("cat.png", bytes::Bytes::from_static(b"hello")),
            Err(ProblemKind::Corrupt)
        );
    }

    #[test]
    fn an_attachment_carries_the_sniffed_media_type_not_the_name() {
        let image = image_attachment("cat.gif", png(b"").into()).expect("an image");
        assert_eq!(image.image.media_type, "image/png");
        assert_eq!(image.name, "cat.gif");
    }

    proptest! {
        #[test]
        fn any_bytes_are_sniffed_without_panicking(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = sniff_image(&bytes);
        }

        #[test]
        fn any_gif_body_is_walked_without_panicking(body in proptest::collection::vec(any::<u8>(), 0..300)) {
            let mut bytes = b"GIF89a".to_vec();
            bytes.extend(body);
            let _ = sniff_image(&bytes);
        }

        #[test]
        fn a_cut_gif_is_never_taken_for_a_good_one(cut in 0usize..60) {
            let whole = gif(1);
            let cut = cut.min(whole.len() - 1);
            prop_assert!(sniff_image(&whole[..cut]).is_err());
        }
    }
}
