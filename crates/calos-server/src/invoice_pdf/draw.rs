//! Turns laid-out pages into a PDF with krilla (fonts are subset and carry
//! a ToUnicode map, so the text can be searched and copied).

use krilla::color::rgb;
use krilla::geom::{PathBuilder, Point, Rect, Size, Transform};
use krilla::image::Image;
use krilla::num::NormalizedF32;
use krilla::page::PageSettings;
use krilla::paint::{Fill, FillRule};
use krilla::text::{Font, TextDirection};
use krilla::Document;

use super::layout::{Op, Page, Rgb, PAGE_H, PAGE_W};
use super::metrics::{bold, regular};
use super::PdfError;

fn fill(c: Rgb) -> Fill {
    Fill {
        paint: rgb::Color::new(c.0, c.1, c.2).into(),
        opacity: NormalizedF32::ONE,
        rule: FillRule::NonZero,
    }
}

fn decode_logo(png: &[u8]) -> Result<Image, PdfError> {
    Image::from_png(png.to_vec().into(), true).map_err(PdfError::Logo)
}

/// The logo's size in pixels (also checks that it decodes).
pub fn logo_size(png: &[u8]) -> Result<(f32, f32), PdfError> {
    let (w, h) = decode_logo(png)?.size();
    if w == 0 || h == 0 {
        return Err(PdfError::Logo("empty image".to_owned()));
    }
    Ok((w as f32, h as f32))
}

pub fn pdf(pages: &[Page], logo_png: Option<&[u8]>) -> Result<Vec<u8>, PdfError> {
    let regular = Font::new(regular().into(), 0).ok_or(PdfError::Font)?;
    let bold = Font::new(bold().into(), 0).ok_or(PdfError::Font)?;
    let logo = logo_png.map(decode_logo).transpose()?;
    let settings = PageSettings::from_wh(PAGE_W, PAGE_H)
        .ok_or_else(|| PdfError::Write("bad page size".to_owned()))?;
    let mut document = Document::new();
    for page in pages {
        let mut p = document.start_page_with(settings.clone());
        let mut surface = p.surface();
        for op in &page.ops {
            match op {
                Op::Text {
                    x,
                    y,
                    size,
                    bold: is_bold,
                    color,
                    text,
                } => {
                    surface.set_fill(Some(fill(*color)));
                    let font = if *is_bold {
                        bold.clone()
                    } else {
                        regular.clone()
                    };
                    surface.draw_text(
                        Point::from_xy(*x, *y),
                        font,
                        *size,
                        text,
                        false,
                        TextDirection::Auto,
                    );
                }
                Op::Rect { x, y, w, h, color } => {
                    let mut pb = PathBuilder::new();
                    if let Some(rect) = Rect::from_xywh(*x, *y, *w, *h) {
                        pb.push_rect(rect);
                    }
                    if let Some(path) = pb.finish() {
                        surface.set_fill(Some(fill(*color)));
                        surface.draw_path(&path);
                    }
                }
                Op::Logo { x, y, w, h } => {
                    if let (Some(image), Some(size)) = (&logo, Size::from_wh(*w, *h)) {
                        surface.push_transform(&Transform::from_translate(*x, *y));
                        surface.draw_image(image.clone(), size);
                        surface.pop();
                    }
                }
            }
        }
        surface.finish();
        p.finish();
    }
    document
        .finish()
        .map_err(|e| PdfError::Write(format!("{e:?}")))
}
