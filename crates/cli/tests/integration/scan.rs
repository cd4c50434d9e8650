//! Reading QR codes from pictures that look like photos: rotated, blurred, noisy, JPEG.

use image::{GrayImage, ImageFormat, Luma};

use crate::fixtures::*;

/// Renders `text` as a QR code and distorts it like a phone photo of a screen or paper:
/// rotated by `degrees`, on a grey background with uneven light, blurred, with noise, saved
/// as a JPEG of `quality`.
fn photo(text: &str, degrees: f32, blur: f32, quality: u8) -> Vec<u8> {
    let png = healthpass_issue::qr::png(text, 4).unwrap();
    let code = image::load_from_memory(&png).unwrap().into_luma8();
    let side = code.width() as f32 * 1.6;
    let (sin, cos) = degrees.to_radians().sin_cos();
    let centre = side / 2.0;
    let half = code.width() as f32 / 2.0;
    let mut seed = 0x2545_f491_u32;
    let mut noise = move || {
        // xorshift: deterministic noise, no extra dependency.
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        (seed % 41) as i32 - 20
    };
    let canvas = GrayImage::from_fn(side as u32, side as u32, |x, y| {
        let (dx, dy) = (x as f32 - centre, y as f32 - centre);
        // Inverse rotation into the code's coordinates.
        let (u, v) = (cos * dx + sin * dy + half, -sin * dx + cos * dy + half);
        let base =
            if u >= 0.0 && v >= 0.0 && (u as u32) < code.width() && (v as u32) < code.height() {
                i32::from(code.get_pixel(u as u32, v as u32)[0])
            } else {
                200
            };
        // Light falls off towards one corner; dark modules are not quite black.
        let shade = (x + y) as f32 / (2.0 * side) * 60.0;
        let value = (base as f32 * 0.8 + 30.0 - shade) as i32 + noise();
        Luma([value.clamp(0, 255) as u8])
    });
    let blurred = image::imageops::blur(&canvas, blur);
    let mut jpeg = Vec::new();
    let mut encoder = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, quality);
    encoder.encode_image(&blurred).unwrap();
    jpeg
}

#[test]
fn reads_photo_like_jpegs() {
    let text = issue(at_es256(), &vaccination());
    for (degrees, blur, quality) in [
        (0.0, 0.8, 80),
        (7.0, 1.2, 60),
        (-15.0, 1.0, 50),
        (33.0, 0.7, 70),
    ] {
        let jpeg = photo(&text, degrees, blur, quality);
        assert_eq!(image::guess_format(&jpeg).unwrap(), ImageFormat::Jpeg);
        let scanned = healthpass_scan::scan_image(&jpeg)
            .unwrap_or_else(|e| panic!("rotation {degrees}°, blur {blur}, quality {quality}: {e}"));
        assert_eq!(scanned, text, "rotation {degrees}°");
    }
}

#[test]
fn refuses_images_beyond_the_size_limit() {
    // A PNG header claiming 20000×20000 pixels: refused before any pixel is decoded.
    let mut png = Vec::new();
    GrayImage::new(1, 1)
        .write_to(&mut std::io::Cursor::new(&mut png), ImageFormat::Png)
        .unwrap();
    // IHDR: length at 8..12, type and data at 12..29 (width 16..20, height 20..24), CRC 29..33.
    png[16..20].copy_from_slice(&20_000u32.to_be_bytes());
    png[20..24].copy_from_slice(&20_000u32.to_be_bytes());
    let crc = crc32(&png[12..29]);
    png[29..33].copy_from_slice(&crc.to_be_bytes());
    match healthpass_scan::scan_image(&png) {
        Err(healthpass_scan::ScanError::TooLarge {
            width: 20_000,
            height: 20_000,
        }) => {}
        other => panic!("expected a refusal, got {other:?}"),
    }
}

/// CRC-32 (ISO 3309), as PNG chunks use it.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in bytes {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}
