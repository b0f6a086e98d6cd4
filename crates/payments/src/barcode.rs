//! An OXXO reference as a Code 128 barcode (what the store's scanner reads), drawn as
//! a PNG: bars from `barcoders`, image encoding from `png`. Digits-only references of
//! even length use character set C (two digits per symbol, the shortest bar code);
//! anything else set B.

use crate::{Error, Result};

/// Quiet zone each side, in modules (the standard asks for at least 10).
const QUIET: usize = 10;

/// The bar modules (1 = bar, 0 = space) of `data`, quiet zones excluded.
pub fn code128_modules(data: &str) -> Result<Vec<u8>> {
    if data.is_empty() || !data.chars().all(|c| c.is_ascii_graphic() || c == ' ') {
        return Err(Error::invalid(
            "referencia",
            "solo caracteres ASCII visibles",
        ));
    }
    let set = if data.len().is_multiple_of(2) && data.bytes().all(|b| b.is_ascii_digit()) {
        'Ć'
    } else {
        'Ɓ'
    };
    let code = barcoders::sym::code128::Code128::new(format!("{set}{data}"))
        .map_err(|e| Error::invalid("referencia", format!("{e:?}")))?;
    Ok(code.encode())
}

/// A grayscale PNG of the barcode: each module `module_px` wide, `height_px` tall,
/// with white quiet zones.
pub fn code128_png(data: &str, module_px: u32, height_px: u32) -> Result<Vec<u8>> {
    let modules = code128_modules(data)?;
    let module_px = module_px.clamp(1, 10) as usize;
    let height = height_px.clamp(10, 1000);
    let width = (modules.len() + 2 * QUIET) * module_px;
    let mut row = vec![255u8; width];
    for (i, m) in modules.iter().enumerate() {
        if *m == 1 {
            let x = (QUIET + i) * module_px;
            row[x..x + module_px].fill(0);
        }
    }
    let w = u32::try_from(width).map_err(|_| Error::invalid("referencia", "demasiado larga"))?;
    let image: Vec<u8> = (0..height).flat_map(|_| row.iter().copied()).collect();
    gray_png(w, height, &image).map_err(|e| Error::invalid("referencia", e))
}

/// An 8-bit grayscale PNG of `pixels` (row by row, `width` × `height`): the one PNG
/// writer for the barcode and the CoDi QR.
pub(crate) fn gray_png(
    width: u32,
    height: u32,
    pixels: &[u8],
) -> std::result::Result<Vec<u8>, String> {
    let mut out = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut out, width, height);
        enc.set_color(png::ColorType::Grayscale);
        enc.set_depth(png::BitDepth::Eight);
        let mut writer = enc.write_header().map_err(|e| e.to_string())?;
        writer.write_image_data(pixels).map_err(|e| e.to_string())?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Code 128's patterns (bar/space widths) for values 0..=106, from the standard.
    const WIDTHS: [&str; 107] = [
        "212222", "222122", "222221", "121223", "121322", "131222", "122213", "122312", "132212",
        "221213", "221312", "231212", "112232", "122132", "122231", "113222", "123122", "123221",
        "223211", "221132", "221231", "213212", "223112", "312131", "311222", "321122", "321221",
        "312212", "322112", "322211", "212123", "212321", "232121", "111323", "131123", "131321",
        "112313", "132113", "132311", "211313", "231113", "231311", "112133", "112331", "132131",
        "113123", "113321", "133121", "313121", "211331", "231131", "213113", "213311", "213131",
        "311123", "311321", "331121", "312113", "312311", "332111", "314111", "221411", "431111",
        "111224", "111422", "121124", "121421", "141122", "141221", "112214", "112412", "122114",
        "122411", "142112", "142211", "241211", "221114", "413111", "241112", "134111", "111242",
        "121142", "121241", "114212", "124112", "124211", "411212", "421112", "421211", "212141",
        "214121", "412121", "111143", "111341", "131141", "114113", "114311", "411113", "411311",
        "113141", "114131", "311141", "411131", "211412", "211214", "211232", "233111",
    ];

    /// Read the symbol values back from the modules (a scanner's job, set C only).
    fn decode_set_c(modules: &[u8]) -> String {
        // Run lengths.
        let mut runs = Vec::new();
        let mut i = 0;
        while i < modules.len() {
            let start = i;
            while i < modules.len() && modules[i] == modules[start] {
                i += 1;
            }
            runs.push((i - start).to_string());
        }
        let runs = runs.concat();
        let symbols: Vec<usize> = runs
            .as_bytes()
            .chunks(6)
            .take_while(|c| c.len() == 6)
            .map(|c| {
                let s = std::str::from_utf8(c).expect("ascii");
                WIDTHS
                    .iter()
                    .position(|w| *w == s)
                    .expect("a Code 128 pattern")
            })
            .collect();
        assert_eq!(symbols[0], 105, "starts with START-C");
        let data = &symbols[1..symbols.len() - 1];
        let (payload, check) = data.split_at(data.len() - 1);
        let sum: usize = 105
            + payload
                .iter()
                .enumerate()
                .map(|(i, v)| (i + 1) * v)
                .sum::<usize>();
        assert_eq!(sum % 103, check[0], "check symbol");
        payload.iter().map(|v| format!("{v:02}")).collect()
    }

    #[test]
    fn an_oxxo_reference_reads_back_from_its_bars() {
        let reference = "93000262276908";
        let modules = code128_modules(reference).expect("encode");
        assert_eq!(decode_set_c(&modules), reference);
        // Stop pattern: 2331112.
        assert!(modules.ends_with(&[1, 1, 0, 0, 0, 1, 1, 1, 0, 1, 0, 1, 1]));
    }

    #[test]
    fn the_png_is_the_bars_scaled_with_quiet_zones() {
        let reference = "93000262276908";
        let modules = code128_modules(reference).expect("encode");
        let png_bytes = code128_png(reference, 3, 80).expect("png");
        let decoder = png::Decoder::new(std::io::Cursor::new(png_bytes));
        let mut reader = decoder.read_info().expect("png header");
        let mut buf = vec![0; reader.output_buffer_size().expect("size")];
        let info = reader.next_frame(&mut buf).expect("frame");
        assert_eq!(info.width as usize, (modules.len() + 20) * 3);
        assert_eq!(info.height, 80);
        // The first row, sampled per module, is the bars again.
        let row = &buf[..info.width as usize];
        let sampled: Vec<u8> = row.chunks(3).map(|c| u8::from(c[0] == 0)).collect();
        assert_eq!(&sampled[10..10 + modules.len()], modules.as_slice());
        assert!(sampled[..10].iter().all(|m| *m == 0));
    }

    #[test]
    fn odd_or_alphanumeric_references_use_set_b_and_junk_is_refused() {
        assert!(code128_modules("1234567").is_ok());
        assert!(code128_modules("REF-12A").is_ok());
        assert!(code128_modules("").is_err());
        assert!(code128_modules("ñ").is_err());
    }
}
