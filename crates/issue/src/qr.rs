//! QR images of certificate texts: alphanumeric mode (the `HC1:` alphabet is exactly QR's
//! alphanumeric set, 5.5 bits a character instead of 8) and error correction level Q (25%),
//! as the HCERT spec recommends for codes shown on screens and printed on paper.

use fast_qr::convert::Builder;
use fast_qr::convert::svg::SvgBuilder;
use fast_qr::{ECL, Mode, QRBuilder, QRCode};
use thiserror::Error;

/// White border, in modules, around the code (ISO/IEC 18004 asks for 4).
pub const QUIET_ZONE: usize = 4;

/// Why a QR code could not be made.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum QrError {
    /// The text does not fit a version-40 code at level Q, or has characters outside the
    /// alphanumeric set.
    #[error("the text cannot be encoded as an alphanumeric QR code at level Q: {detail}")]
    Encode {
        /// What the encoder reported.
        detail: String,
    },
    /// Writing the PNG failed.
    #[error("cannot write the PNG: {detail}")]
    Png {
        /// What the encoder reported.
        detail: String,
    },
}

/// A QR code for `text`: alphanumeric mode, level Q.
pub fn encode(text: &str) -> Result<QRCode, QrError> {
    QRBuilder::new(text)
        .mode(Mode::Alphanumeric)
        .ecl(ECL::Q)
        .build()
        .map_err(|e| QrError::Encode {
            detail: format!("{e:?}"),
        })
}

/// A PNG image of `text` with `scale` pixels per module and a 4-module quiet zone.
pub fn png(text: &str, scale: u32) -> Result<Vec<u8>, QrError> {
    let qr = encode(text)?;
    let scale = scale.max(1);
    let side = (qr.size + 2 * QUIET_ZONE) as u32 * scale;
    let image = image::GrayImage::from_fn(side, side, |x, y| {
        let (mx, my) = ((x / scale) as usize, (y / scale) as usize);
        let dark = (QUIET_ZONE..QUIET_ZONE + qr.size).contains(&mx)
            && (QUIET_ZONE..QUIET_ZONE + qr.size).contains(&my)
            && qr.data[(my - QUIET_ZONE) * qr.size + (mx - QUIET_ZONE)].value();
        image::Luma([if dark { 0 } else { 255 }])
    });
    let mut out = Vec::new();
    image
        .write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png)
        .map_err(|e| QrError::Png {
            detail: e.to_string(),
        })?;
    Ok(out)
}

/// An SVG image of `text` with a 4-module quiet zone.
pub fn svg(text: &str) -> Result<String, QrError> {
    let qr = encode(text)?;
    Ok(SvgBuilder::default().margin(QUIET_ZONE).to_str(&qr))
}
