//! The embedded fonts and text widths (for right-aligned columns and
//! wrapping), measured from the font's advance widths.

use std::sync::OnceLock;

// DejaVu Sans comes from the `dejavu` crate (the font files as bytes), so no
// third-party file lives in this repository.
pub use dejavu::sans::{bold, regular};

struct Widths {
    units_per_em: f32,
    /// Advance of each char below U+0250 (Latin and more), in font units.
    table: Vec<u16>,
    fallback: u16,
}

fn widths(data: &'static [u8]) -> Option<Widths> {
    let face = ttf_parser::Face::parse(data, 0).ok()?;
    let advance = |c: char| {
        face.glyph_index(c)
            .and_then(|g| face.glyph_hor_advance(g))
            .unwrap_or(0)
    };
    let fallback = advance('M');
    let table = (0u32..0x250)
        .map(|cp| char::from_u32(cp).map_or(fallback, advance))
        .collect();
    Some(Widths {
        units_per_em: f32::from(face.units_per_em()),
        table,
        fallback,
    })
}

fn cached(bold: bool) -> Option<&'static Widths> {
    static REG: OnceLock<Option<Widths>> = OnceLock::new();
    static BLD: OnceLock<Option<Widths>> = OnceLock::new();
    if bold {
        BLD.get_or_init(|| widths(dejavu::sans::bold())).as_ref()
    } else {
        REG.get_or_init(|| widths(regular())).as_ref()
    }
}

/// Width of `text` at `size` points (kerning ignored: a fraction of a point).
pub fn width(text: &str, size: f32, bold: bool) -> f32 {
    let Some(w) = cached(bold) else {
        return text.chars().count() as f32 * size * 0.6;
    };
    let units: u32 = text
        .chars()
        .map(|c| u32::from(w.table.get(c as usize).copied().unwrap_or(w.fallback)))
        .sum();
    units as f32 * size / w.units_per_em
}

/// Splits `text` into lines no wider than `max` (by words; a word longer
/// than a line is cut).
pub fn wrap(text: &str, size: f32, bold: bool, max: f32) -> Vec<String> {
    let mut lines = Vec::new();
    for paragraph in text.lines() {
        let mut line = String::new();
        for word in paragraph.split_whitespace() {
            let candidate = if line.is_empty() {
                word.to_owned()
            } else {
                format!("{line} {word}")
            };
            if width(&candidate, size, bold) <= max || line.is_empty() {
                line = candidate;
            } else {
                lines.push(std::mem::take(&mut line));
                line = word.to_owned();
            }
            while width(&line, size, bold) > max && line.chars().count() > 1 {
                let mut head: String = line.clone();
                while width(&head, size, bold) > max && head.chars().count() > 1 {
                    head.pop();
                }
                let rest = line[head.len()..].to_owned();
                lines.push(head);
                line = rest;
            }
        }
        lines.push(line);
    }
    lines
}
