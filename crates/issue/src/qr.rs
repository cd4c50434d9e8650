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
    encode_as(text, Mode::Alphanumeric, ECL::Q)
}

fn encode_as(text: &str, mode: Mode, ecl: ECL) -> Result<QRCode, QrError> {
    QRBuilder::new(text)
        .mode(mode)
        .ecl(ecl)
        .build()
        .map_err(|e| QrError::Encode {
            detail: format!("{e:?}"),
        })
}

fn png_of(qr: &QRCode, scale: u32) -> Result<Vec<u8>, QrError> {
    let dark: Vec<bool> = qr.data[..qr.size * qr.size]
        .iter()
        .map(|m| m.value())
        .collect();
    png_of_modules(qr.size, &dark, scale)
}

/// A PNG image of `text` with `scale` pixels per module and a 4-module quiet zone.
pub fn png(text: &str, scale: u32) -> Result<Vec<u8>, QrError> {
    png_of(&encode(text)?, scale)
}

/// A PNG image of a square of `size`×`size` modules (`dark`, row by row) with `scale` pixels
/// per module and a 4-module quiet zone.
pub fn png_of_modules(size: usize, dark: &[bool], scale: u32) -> Result<Vec<u8>, QrError> {
    let scale = scale.max(1);
    let side = (size + 2 * QUIET_ZONE) as u32 * scale;
    let image = image::GrayImage::from_fn(side, side, |x, y| {
        let (mx, my) = ((x / scale) as usize, (y / scale) as usize);
        let dark = (QUIET_ZONE..QUIET_ZONE + size).contains(&mx)
            && (QUIET_ZONE..QUIET_ZONE + size).contains(&my)
            && dark[(my - QUIET_ZONE) * size + (mx - QUIET_ZONE)];
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

/// A QR code for any text in byte mode, level M (an ICAO seal's JSON).
fn encode_bytes(text: &str) -> Result<QRCode, QrError> {
    encode_as(text, Mode::Byte, ECL::M)
}

/// A PNG image of any text, byte mode, level M.
pub fn png_bytes(text: &str, scale: u32) -> Result<Vec<u8>, QrError> {
    png_of(&encode_bytes(text)?, scale)
}

/// An SVG image of any text, byte mode, level M.
pub fn svg_bytes(text: &str) -> Result<String, QrError> {
    let qr = encode_bytes(text)?;
    Ok(SvgBuilder::default().margin(QUIET_ZONE).to_str(&qr))
}

/// An SVG image of a square of modules with a 4-module quiet zone: one path of unit squares.
pub fn svg_of_modules(size: usize, dark: &[bool]) -> String {
    let side = size + 2 * QUIET_ZONE;
    let mut path = String::new();
    for (i, _) in dark.iter().enumerate().filter(|(_, d)| **d) {
        let (x, y) = (i % size + QUIET_ZONE, i / size + QUIET_ZONE);
        path.push_str(&format!("M{x} {y}h1v1h-1z"));
    }
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {side} {side}\"><rect width=\"{side}\" height=\"{side}\" fill=\"#fff\"/><path d=\"{path}\" fill=\"#000\"/></svg>"
    )
}

/// A SMART Health Card QR code: a byte-mode segment with `shc:/` and a numeric-mode segment
/// with the digits (spec "Encoding Chunks as QR codes"), error correction L, the smallest
/// version that holds it, at most 22. Returns the side and the modules.
pub fn shc_modules(digits: &str) -> Result<(usize, Vec<bool>), QrError> {
    use qrcode::bits::Bits;
    use qrcode::{EcLevel, QrCode, Version};
    let err = |detail: String| QrError::Encode { detail };
    for version in 1..=22 {
        let mut bits = Bits::new(Version::Normal(version));
        let fits = bits.push_byte_data(b"shc:/").is_ok()
            && bits.push_numeric_data(digits.as_bytes()).is_ok()
            && bits.push_terminator(EcLevel::L).is_ok();
        if fits {
            let code = QrCode::with_bits(bits, EcLevel::L).map_err(|e| err(e.to_string()))?;
            let dark = code
                .to_colors()
                .into_iter()
                .map(|c| c == qrcode::Color::Dark)
                .collect();
            return Ok((code.width(), dark));
        }
    }
    Err(err(format!(
        "{} digits do not fit a version-22 code at level L",
        digits.len()
    )))
}
