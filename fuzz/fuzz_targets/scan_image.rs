//! QR images: arbitrary bytes as PNG/JPEG, and arbitrary greyscale bitmaps.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = healthpass_scan::scan_image(data) {
        assert!(!text.is_empty() || data.len() > 8);
    }
    // The same bytes as a small bitmap: the first byte picks the width.
    if let Some((&w, pixels)) = data.split_first() {
        let width = u32::from(w.max(1));
        let height = (pixels.len() as u32) / width;
        if height > 0 {
            let luma = pixels[..(width * height) as usize].to_vec();
            let _ = healthpass_scan::scan_luma(luma, width, height);
        }
    }
});
