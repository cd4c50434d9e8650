//! Reading QR codes from images: a PNG or JPEG (a screenshot or a photo) in, the QR text out.
//!
//! Decoding uses `rxing` (a port of ZXing) on the image's luma channel, with its "try harder"
//! mode for photos. Images are size-checked before decoding so that a hostile file cannot make
//! the decoder allocate without bound.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

use std::io::Cursor;

use image::{ImageReader, Limits};
use rxing::{BarcodeFormat, DecodeHints};
use thiserror::Error;

/// Largest image accepted, in pixels per side (a 48-megapixel photo is 8000 × 6000).
pub const MAX_DIMENSION: u32 = 10_000;

/// Why no QR text could be read.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ScanError {
    /// The bytes are not a PNG or JPEG image, or the image is corrupt.
    #[error("cannot read the image: {detail}")]
    Image {
        /// What the image decoder reported.
        detail: String,
    },
    /// The image is larger than [`MAX_DIMENSION`] on a side.
    #[error("the image is {width}×{height} pixels; the limit is {MAX_DIMENSION} per side")]
    TooLarge {
        /// Width.
        width: u32,
        /// Height.
        height: u32,
    },
    /// The image holds no readable QR code.
    #[error("no readable QR code in the image (try a sharper, flatter, better-lit picture)")]
    NoCode,
}

/// Reads the text of the QR code in a PNG or JPEG image.
pub fn scan_image(bytes: &[u8]) -> Result<String, ScanError> {
    let image_err = |detail: String| ScanError::Image { detail };
    let reader = || {
        ImageReader::new(Cursor::new(bytes))
            .with_guessed_format()
            .map_err(|e| image_err(e.to_string()))
    };
    // Read the header first: refuse oversized images before decoding a single pixel.
    let (width, height) = reader()?
        .into_dimensions()
        .map_err(|e| image_err(e.to_string()))?;
    if width > MAX_DIMENSION || height > MAX_DIMENSION {
        return Err(ScanError::TooLarge { width, height });
    }
    let mut reader = reader()?;
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_DIMENSION);
    limits.max_image_height = Some(MAX_DIMENSION);
    limits.max_alloc = Some(512 * 1024 * 1024);
    reader.limits(limits);
    let luma = reader
        .decode()
        .map_err(|e| image_err(e.to_string()))?
        .into_luma8();
    let (width, height) = luma.dimensions();
    scan_luma(luma.into_raw(), width, height)
}

/// Reads the text of the QR code in an 8-bit greyscale bitmap (row-major, `width × height`).
pub fn scan_luma(luma: Vec<u8>, width: u32, height: u32) -> Result<String, ScanError> {
    if width == 0 || height == 0 || luma.len() != width as usize * height as usize {
        return Err(ScanError::Image {
            detail: format!(
                "a {width}×{height} bitmap needs {} bytes, got {}",
                width as u64 * height as u64,
                luma.len()
            ),
        });
    }
    let mut hints = DecodeHints {
        TryHarder: Some(true),
        ..Default::default()
    };
    rxing::helpers::detect_in_luma_with_hints(
        luma,
        width,
        height,
        Some(BarcodeFormat::QR_CODE),
        &mut hints,
    )
    .map(|result| result.getText().to_owned())
    .map_err(|_| ScanError::NoCode)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_garbage_and_blank_images() {
        assert!(matches!(
            scan_image(b"not an image"),
            Err(ScanError::Image { .. })
        ));
        let blank = image::GrayImage::from_pixel(64, 64, image::Luma([255]));
        let mut png = Vec::new();
        blank
            .write_to(&mut Cursor::new(&mut png), image::ImageFormat::Png)
            .unwrap();
        assert!(matches!(scan_image(&png), Err(ScanError::NoCode)));
        assert!(matches!(
            scan_luma(vec![0; 10], 4, 4),
            Err(ScanError::Image { .. })
        ));
    }
}
