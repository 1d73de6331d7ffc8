//! Figures as data, rendered by `plotters` to SVG text and PNG bytes in memory.
//!
//! A figure is a plain value ([`XyChart`] for scatter/line charts, [`BarChart`] for
//! categorical bars and dot-and-whisker rows); [`render`] turns it into a
//! [`RenderedFigure`] with both encodings. Nothing here touches the file system.
//!
//! Log axes are drawn by plotting `log10(value)` on a linear axis and labelling ticks with
//! the value, so one drawing path serves every combination of linear and log axes.
//! Legends live in a panel to the right of the plot area so they never cover data, and
//! in-plot labels of reference lines are spread apart so they never overlap each other.

mod bars;
mod xy;

pub use bars::{Bar, BarChart, BarGroup, BarStyle};
pub use xy::{Band, LineKind, Marker, Point, RefLine, Series, XyChart};

use plotters::prelude::*;
use serde::Serialize;

/// Why a figure could not be drawn or encoded.
#[derive(Debug, thiserror::Error)]
pub enum FigureError {
    /// plotters failed (most often: no usable font; install `fonts-dejavu-core`).
    #[error(
        "figure {figure}: drawing failed: {reason} (fonts come from fontconfig; on Debian install fonts-dejavu-core)"
    )]
    Draw {
        /// Figure id.
        figure: String,
        /// plotters' message.
        reason: String,
    },
    /// The PNG encoder failed.
    #[error("figure {figure}: PNG encoding failed: {reason}")]
    Png {
        /// Figure id.
        figure: String,
        /// Encoder message.
        reason: String,
    },
}

/// A figure in both encodings, with the text the page shows beside it.
#[derive(Debug, Clone, Serialize)]
pub struct RenderedFigure {
    /// File stem and HTML id, e.g. `roofline`.
    pub id: String,
    /// Title.
    pub title: String,
    /// Caption: what was measured and how, and where reference data come from.
    pub caption: String,
    /// SVG document.
    pub svg: String,
    /// PNG bytes.
    #[serde(skip)]
    pub png: Vec<u8>,
    /// Pixel size.
    pub size: (u32, u32),
}

/// A figure before rendering.
#[derive(Debug, Clone)]
pub enum Figure {
    /// Scatter/line chart.
    Xy(XyChart),
    /// Categorical bars or dot-and-whisker rows.
    Bars(BarChart),
}

impl Figure {
    /// Figure id.
    pub fn id(&self) -> &str {
        match self {
            Figure::Xy(c) => &c.id,
            Figure::Bars(c) => &c.id,
        }
    }

    /// Title.
    pub fn title(&self) -> &str {
        match self {
            Figure::Xy(c) => &c.title,
            Figure::Bars(c) => &c.title,
        }
    }

    /// Caption.
    pub fn caption(&self) -> &str {
        match self {
            Figure::Xy(c) => &c.caption,
            Figure::Bars(c) => &c.caption,
        }
    }

    /// Pixel size the figure is drawn at.
    pub fn size(&self) -> (u32, u32) {
        match self {
            Figure::Xy(c) => (c.width, c.height),
            Figure::Bars(c) => c.size(),
        }
    }

    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, plotters::coord::Shift>,
        hover: &mut Vec<Hover>,
    ) -> Result<(), String> {
        match self {
            Figure::Xy(c) => xy::draw(c, root, hover),
            Figure::Bars(c) => bars::draw(c, root, hover),
        }
    }
}

/// A region of a drawn figure (pixels) and the text a pointer resting on it shows: every
/// point and every bar has one. The SVG carries them as `<title>` elements, which browsers
/// show as tooltips without any script.
#[derive(Debug, Clone, PartialEq)]
pub struct Hover {
    /// Left edge.
    pub x: i32,
    /// Top edge.
    pub y: i32,
    /// Width.
    pub width: i32,
    /// Height.
    pub height: i32,
    /// What the region shows.
    pub text: String,
}

impl Hover {
    /// A square of `2 × radius` pixels around a point.
    pub fn around(center: (i32, i32), radius: i32, text: String) -> Hover {
        Hover {
            x: center.0 - radius,
            y: center.1 - radius,
            width: 2 * radius,
            height: 2 * radius,
            text,
        }
    }
}

/// A legend label in lines of at most `width` characters, broken after a space or a comma
/// (a piece longer than `width` is cut), at most `max_lines` of them; nothing is cut short
/// unless a label is longer than `max_lines × width`.
pub fn wrap_label(text: &str, width: usize, max_lines: usize) -> Vec<String> {
    // Pieces end after each space or comma: the places a line may break.
    let mut pieces: Vec<String> = Vec::new();
    let mut piece = String::new();
    for ch in text.chars() {
        piece.push(ch);
        if ch == ' ' || ch == ',' {
            pieces.push(std::mem::take(&mut piece));
        }
    }
    if !piece.is_empty() {
        pieces.push(piece);
    }
    let mut lines: Vec<String> = Vec::new();
    let mut current = String::new();
    for piece in pieces {
        if !current.is_empty() && (current.clone() + piece.trim_end()).chars().count() > width {
            lines.push(current.trim_end().to_string());
            current.clear();
        }
        current.push_str(&piece);
    }
    if !current.trim().is_empty() {
        lines.push(current.trim_end().to_string());
    }
    if lines.len() > max_lines {
        let rest = lines[max_lines - 1..].join(" ");
        lines.truncate(max_lines - 1);
        lines.push(rest);
    }
    lines.into_iter().map(|l| truncate(&l, width)).collect()
}

/// Escapes text for an XML element.
fn xml_escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// Appends the hover regions to an SVG document, last, so that they lie on top: transparent
/// rectangles, each with its `<title>`.
fn with_hover(svg: String, hover: &[Hover]) -> String {
    let Some(end) = svg.rfind("</svg>") else { return svg };
    let mut out = String::with_capacity(svg.len() + hover.len() * 96);
    out.push_str(&svg[..end]);
    out.push_str("<g class=\"hover\" fill=\"#fff\" fill-opacity=\"0\">\n");
    for h in hover {
        out.push_str(&format!(
            "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\"><title>{}</title></rect>\n",
            h.x,
            h.y,
            h.width.max(1),
            h.height.max(1),
            xml_escape(&h.text)
        ));
    }
    out.push_str("</g>\n");
    out.push_str(&svg[end..]);
    out
}

/// A value as hover text shows it: four significant figures, plain between 0.001 and a
/// million, else in scientific notation.
pub fn hover_value(value: f64) -> String {
    if value == 0.0 || !value.is_finite() {
        format!("{value}")
    } else if value.abs() >= 1e6 || value.abs() < 1e-3 {
        format!("{value:.3e}")
    } else {
        let digits = (3 - value.abs().log10().floor() as i32).max(0) as usize;
        let text = format!("{value:.digits$}");
        if text.contains('.') {
            text.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            text
        }
    }
}

/// Renders a figure to SVG text, with hover text on every point and bar.
pub fn render_svg(figure: &Figure) -> Result<String, FigureError> {
    let mut svg = String::new();
    let mut hover = Vec::new();
    {
        let root = SVGBackend::with_string(&mut svg, figure.size()).into_drawing_area();
        figure
            .draw(&root, &mut hover)
            .map_err(|reason| draw_error(figure, reason))?;
        root.present().map_err(|e| draw_error(figure, e.to_string()))?;
    }
    Ok(with_hover(svg, &hover))
}

/// Renders a figure to PNG bytes.
pub fn render_png(figure: &Figure) -> Result<Vec<u8>, FigureError> {
    let (w, h) = figure.size();
    let mut pixels = vec![0u8; (w * h * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut pixels, (w, h)).into_drawing_area();
        figure
            .draw(&root, &mut Vec::new())
            .map_err(|reason| draw_error(figure, reason))?;
        root.present().map_err(|e| draw_error(figure, e.to_string()))?;
    }
    encode_png(&pixels, w, h).map_err(|reason| FigureError::Png {
        figure: figure.id().to_string(),
        reason,
    })
}

/// Renders both encodings.
pub fn render(figure: &Figure) -> Result<RenderedFigure, FigureError> {
    Ok(RenderedFigure {
        id: figure.id().to_string(),
        title: figure.title().to_string(),
        caption: figure.caption().to_string(),
        svg: render_svg(figure)?,
        png: render_png(figure)?,
        size: figure.size(),
    })
}

fn draw_error(figure: &Figure, reason: String) -> FigureError {
    FigureError::Draw {
        figure: figure.id().to_string(),
        reason,
    }
}

/// Encodes 8-bit RGB pixels as PNG.
pub fn encode_png(rgb: &[u8], width: u32, height: u32) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut out, width, height);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        encoder.set_compression(png::Compression::Default);
        let mut writer = encoder.write_header().map_err(|e| e.to_string())?;
        writer.write_image_data(rgb).map_err(|e| e.to_string())?;
    }
    Ok(out)
}

/// Colour-blind-safe categorical palette (Okabe & Ito 2008, then Tableau 10 extras).
pub const PALETTE: [RGBColor; 12] = [
    RGBColor(0, 114, 178),
    RGBColor(213, 94, 0),
    RGBColor(0, 158, 115),
    RGBColor(204, 121, 167),
    RGBColor(230, 159, 0),
    RGBColor(86, 180, 233),
    RGBColor(120, 120, 120),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
    RGBColor(0, 0, 0),
];

/// Colour `index` of [`PALETTE`], cycling.
pub fn color(index: usize) -> RGBColor {
    PALETTE[index % PALETTE.len()]
}

/// Text sizes in pixels, tuned for 1200-pixel-wide PNGs.
pub(crate) mod font {
    pub const TITLE: u32 = 26;
    pub const AXIS: u32 = 20;
    pub const TICK: u32 = 16;
    pub const LEGEND: u32 = 15;
    pub const LABEL: u32 = 15;
    pub const FAMILY: &str = "sans-serif";
}

/// An axis: label with unit, and scale.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Axis {
    /// Label including the unit, e.g. `performance (GFLOP/s)`.
    pub label: String,
    /// Base-10 log scale.
    pub log: bool,
    /// Values are years (ticks printed as integers).
    pub years: bool,
    /// Fixed range in data units (before any log), else fitted to the data.
    pub range: Option<(f64, f64)>,
}

impl Axis {
    /// A linear axis.
    pub fn linear(label: impl Into<String>) -> Axis {
        Axis {
            label: label.into(),
            log: false,
            years: false,
            range: None,
        }
    }

    /// A log10 axis.
    pub fn log(label: impl Into<String>) -> Axis {
        Axis {
            log: true,
            ..Axis::linear(label)
        }
    }

    /// A linear axis of calendar years.
    pub fn years(label: impl Into<String>) -> Axis {
        Axis {
            years: true,
            ..Axis::linear(label)
        }
    }

    /// With a fixed range.
    pub fn with_range(mut self, low: f64, high: f64) -> Axis {
        self.range = Some((low, high));
        self
    }

    /// Data value to plotting coordinate (`log10` on log axes; `None` if not drawable).
    pub fn to_plot(&self, value: f64) -> Option<f64> {
        if !value.is_finite() {
            return None;
        }
        if self.log {
            (value > 0.0).then(|| value.log10())
        } else {
            Some(value)
        }
    }

    /// Tick label for a plotting coordinate.
    pub fn tick(&self, coordinate: f64) -> String {
        if self.log {
            format_log_tick(coordinate)
        } else if self.years {
            format!("{coordinate:.0}")
        } else {
            format_plain(coordinate)
        }
    }

    /// This axis for data spanning `values` (data units): a log axis whose data span less than
    /// a decade is drawn linear (its ticks would read 15.8, 25.1, 39.8), unless its range is
    /// fixed.
    pub fn fitted(&self, values: impl Iterator<Item = f64>) -> Axis {
        if !self.log || self.range.is_some() {
            return self.clone();
        }
        let (mut low, mut high) = (f64::INFINITY, 0f64);
        for v in values.filter(|v| v.is_finite() && *v > 0.0) {
            low = low.min(v);
            high = high.max(v);
        }
        if high > 0.0 && high / low < 10.0 {
            Axis {
                log: false,
                label: self.label.replace(" (log scale)", "").replace(", log scale", ""),
                ..self.clone()
            }
        } else {
            self.clone()
        }
    }

    /// The plotting range covering `values` (plotting coordinates), padded, or the fixed one.
    pub fn plot_range(&self, values: impl Iterator<Item = f64>) -> (f64, f64) {
        if let Some((lo, hi)) = self.range {
            let lo = self.to_plot(lo).unwrap_or(0.0);
            let hi = self.to_plot(hi).unwrap_or(lo + 1.0);
            return (lo, hi);
        }
        let (mut lo, mut hi) = values
            .filter(|v| v.is_finite())
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| (lo.min(v), hi.max(v)));
        if !lo.is_finite() {
            return (0.0, 1.0);
        }
        if self.log {
            // pad by a tenth of a decade; ticks still land on powers of ten
            let pad = (0.04 * (hi - lo)).max(0.1);
            lo -= pad;
            hi += pad;
            if hi - lo < 1.0 {
                let mid = 0.5 * (lo + hi);
                lo = mid - 0.5;
                hi = mid + 0.5;
            }
        } else {
            let span = (hi - lo).max(hi.abs() * 0.1).max(1e-9);
            lo -= 0.04 * span;
            hi += 0.04 * span;
        }
        (lo, hi)
    }

    /// How many tick labels to ask plotters for over `range`.
    pub fn tick_count(&self, range: (f64, f64)) -> usize {
        if self.log {
            // one per decade up to 12 decades (plotters then steps by 2 or 5 decades);
            // short spans get intermediate ticks
            let decades = range.1 - range.0;
            if decades < 2.5 {
                6
            } else {
                (decades.floor() as usize + 1).clamp(3, 13)
            }
        } else {
            8
        }
    }
}

/// `10^e` as a compact label: plain numbers from 0.001 to 1000, else `1e6` style.
pub fn format_log_tick(exponent: f64) -> String {
    let value = 10f64.powf(exponent);
    let rounded = exponent.round();
    if (exponent - rounded).abs() < 1e-6 {
        let k = rounded as i32;
        return if (-3..=3).contains(&k) {
            format_plain(10f64.powi(k))
        } else {
            format!("1e{k}")
        };
    }
    let k = value.log10().floor() as i32;
    if (-3..=3).contains(&k) {
        format_plain((value * 100.0).round() / 100.0)
    } else {
        let mantissa = value / 10f64.powi(k);
        format!("{mantissa:.1}e{k}")
    }
}

/// A number with as few digits as it needs (at most 3 significant).
pub fn format_plain(value: f64) -> String {
    if value == 0.0 {
        return "0".into();
    }
    let magnitude = value.abs();
    let text = if magnitude >= 100.0 {
        format!("{value:.0}")
    } else if magnitude >= 10.0 {
        format!("{value:.1}")
    } else if magnitude >= 1.0 {
        format!("{value:.2}")
    } else {
        let decimals = (-magnitude.log10().floor()) as usize + 2;
        format!("{value:.decimals$}")
    };
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text
    }
}

/// Shortens `text` to `max` characters with an ellipsis.
pub fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_string()
    } else {
        let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
        out.push('…');
        out
    }
}

/// Spreads label positions (pixels, any order) so neighbours are at least `gap` apart,
/// keeping them inside `[low, high]`. Returns positions in the input order.
pub fn spread_labels(positions: &[i32], gap: i32, low: i32, high: i32) -> Vec<i32> {
    let mut order: Vec<usize> = (0..positions.len()).collect();
    order.sort_by_key(|&i| positions[i]);
    let mut placed = vec![0; positions.len()];
    let mut previous = i32::MIN / 2;
    for &i in &order {
        let y = positions[i].max(previous + gap).max(low);
        placed[i] = y;
        previous = y;
    }
    // pull back from the bottom edge if the stack overflowed
    let mut next = high + gap;
    for &i in order.iter().rev() {
        if placed[i] > next - gap {
            placed[i] = next - gap;
        }
        next = placed[i];
    }
    placed
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every point and every bar of the SVG carries its `<title>`, with the series, the
    /// values and the interval; points outside the plotted range carry none; the PNG has no
    /// such layer to carry.
    #[test]
    fn every_point_and_bar_has_hover_text() {
        let mut chart = XyChart::new("t", "T", Axis::linear("size"), Axis::log("GFLOP/s"));
        let mut with_ci = Point::new(3.0, 40.0);
        with_ci.y_err = Some((35.0, 45.5));
        chart.series.push(Series::points(
            "gemm <f32>",
            0,
            Marker::Circle,
            vec![Point::new(1.0, 10.0), Point::new(2.0, 20.0), with_ci],
        ));
        let svg = render_svg(&Figure::Xy(chart)).unwrap();
        assert_eq!(svg.matches("<title>").count(), 3, "{svg}");
        assert!(
            svg.contains("<title>gemm &lt;f32&gt;: size = 1; GFLOP/s = 10</title>"),
            "{svg}"
        );
        assert!(svg.contains("GFLOP/s = 40 (35–45.5)</title>"), "{svg}");
        // The hover layer is drawn last, inside the document.
        assert!(svg.rfind("<g class=\"hover\"").unwrap() < svg.rfind("</svg>").unwrap());

        let mut bars = BarChart::new("b", "B", Axis::linear("GB/s"), BarStyle::Bars);
        bars.categories = vec!["L1".into(), "DRAM".into()];
        let mut modeled = Bar::new(2.5).with_ci(2.0, 3.0);
        modeled.modeled = true;
        bars.groups.push(BarGroup {
            label: "cpu".into(),
            color: 0,
            values: vec![Some(Bar::new(90.0)), Some(modeled)],
        });
        let svg = render_svg(&Figure::Bars(bars)).unwrap();
        assert_eq!(svg.matches("<title>").count(), 2, "{svg}");
        assert!(svg.contains("<title>L1: cpu: GB/s = 90</title>"), "{svg}");
        assert!(
            svg.contains("<title>DRAM: cpu: GB/s = 2.5 (2–3) (modeled)</title>"),
            "{svg}"
        );
    }

    /// A roofline's ceilings carry their labels on the plot, not only in the legend: the
    /// label's text appears twice (legend and line) when set, once when not.
    #[test]
    fn ceilings_are_labelled_on_their_lines() {
        let mut chart = XyChart::new("r", "R", Axis::log("FLOP/B"), Axis::log("GFLOP/s"));
        let mut peak = Series::line(
            "f32 peak",
            0,
            LineKind::Solid,
            vec![Point::new(1.0, 100.0), Point::new(100.0, 100.0)],
        );
        peak.line_label = Some("f32 peak".into());
        let mut dram = Series::line(
            "DRAM",
            1,
            LineKind::Solid,
            vec![Point::new(0.01, 1.0), Point::new(1.0, 100.0)],
        );
        dram.line_label = Some("DRAM".into());
        let unlabelled = Series::line(
            "L9 sweep",
            2,
            LineKind::Dashed,
            vec![Point::new(0.01, 2.0), Point::new(0.5, 100.0)],
        );
        chart.series = vec![peak, dram, unlabelled];
        let svg = render_svg(&Figure::Xy(chart)).unwrap();
        // plotters writes each text on its own line
        let texts = |t: &str| svg.lines().filter(|l| l.trim() == t).count();
        assert_eq!(texts("f32 peak"), 2, "{svg}");
        assert_eq!(texts("DRAM"), 2, "{svg}");
        assert_eq!(texts("L9 sweep"), 1, "{svg}");
    }

    #[test]
    fn legend_labels_wrap_instead_of_being_cut() {
        assert_eq!(
            wrap_label("best CPU: Intel Xeon Platinum 9282 (peak / TDP)", 36, 3),
            ["best CPU: Intel Xeon Platinum 9282", "(peak / TDP)"]
        );
        assert_eq!(wrap_label("short", 36, 3), ["short"]);
        assert_eq!(wrap_label("a b c d", 1, 2).len(), 2);
        assert_eq!(
            wrap_label("conv2d_nhwc f32 b=8,c=256,h=14,w=14,k=256 [MODELED]", 30, 3),
            ["conv2d_nhwc f32 b=8,c=256,", "h=14,w=14,k=256 [MODELED]"]
        );
    }

    #[test]
    fn a_log_axis_under_a_decade_is_drawn_linear() {
        let axis = Axis::log("bandwidth (GB/s, log scale)");
        assert!(
            axis.fitted([40.0, 63.0, 450.0].into_iter()).log,
            "11x: more than a decade"
        );
        let fitted = axis.fitted([40.0, 63.0, 200.0].into_iter());
        assert!(!fitted.log && fitted.label == "bandwidth (GB/s)");
        assert!(axis.fitted([1.0, 1e3].into_iter()).log);
        assert!(axis.clone().with_range(1.0, 2.0).fitted([1.0, 2.0].into_iter()).log);
    }

    /// A confidence band wider than the data is clipped to the range the data set: the
    /// axis of points between 10 and 1,000 does not reach down to the band's 1e-6.
    #[test]
    fn a_wide_band_does_not_stretch_the_axis() {
        let mut chart = XyChart::new("h", "H", Axis::years("year"), Axis::log("count"));
        chart.series.push(Series::points(
            "data",
            0,
            Marker::Circle,
            vec![Point::new(1960.0, 10.0), Point::new(2020.0, 1000.0)],
        ));
        chart.bands.push(Band {
            label: "CI".into(),
            color: 1,
            points: vec![(1960.0, 1e-6, 50.0), (2020.0, 100.0, 1e5)],
        });
        let svg = render_svg(&Figure::Xy(chart)).unwrap();
        let texts = |t: &str| svg.lines().filter(|l| l.trim() == t).count();
        assert_eq!(texts("1e-6"), 0, "the band stretched the axis: {svg}");
        assert!(texts("100") >= 1, "{svg}");
    }

    #[test]
    fn hover_values_keep_four_significant_figures() {
        assert_eq!(hover_value(12.345678), "12.35");
        assert_eq!(hover_value(0.012345), "0.01235");
        assert_eq!(hover_value(1234.6), "1235");
        assert_eq!(hover_value(2.5e9), "2.500e9");
        assert_eq!(hover_value(4.2e-5), "4.200e-5");
        assert_eq!(hover_value(0.0), "0");
    }

    #[test]
    fn log_ticks_read_well() {
        assert_eq!(format_log_tick(0.0), "1");
        assert_eq!(format_log_tick(2.0), "100");
        assert_eq!(format_log_tick(-2.0), "0.01");
        assert_eq!(format_log_tick(6.0), "1e6");
        assert_eq!(format_log_tick(-5.0), "1e-5");
        assert_eq!(format_log_tick(std::f64::consts::LOG10_2), "2");
    }

    #[test]
    fn labels_are_spread() {
        let placed = spread_labels(&[100, 105, 300], 16, 0, 400);
        assert_eq!(placed, vec![100, 116, 300]);
        let placed = spread_labels(&[395, 398], 16, 0, 400);
        assert!(placed[0] <= 384 && placed[1] <= 400 && placed[1] - placed[0] >= 16);
    }

    #[test]
    fn plain_numbers_drop_trailing_zeros() {
        assert_eq!(format_plain(1.0), "1");
        assert_eq!(format_plain(0.001), "0.001");
        assert_eq!(format_plain(2.5), "2.5");
        assert_eq!(format_plain(2012.0), "2012");
    }
}
