//! Horizontal categorical charts: grouped bars with CI whiskers, or dots with whiskers
//! (projections), one row per category.

use super::{color, font, hover_value, truncate, Axis, Hover, RefLine};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use serde::Serialize;

/// Bars or dots.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum BarStyle {
    /// Bars from the axis to the value.
    Bars,
    /// A dot at the value.
    Dots,
}

/// One value of one group in one category.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Bar {
    /// The value (data units).
    pub value: f64,
    /// CI low (data units); `None`: none, or unbounded below.
    pub low: Option<f64>,
    /// CI high; `None`: none, or unbounded above when `open_high`.
    pub high: Option<f64>,
    /// The upper end of the interval is unbounded (drawn as an arrow to the edge).
    pub open_high: bool,
    /// A modeled, not measured, figure: drawn pale with an outline.
    pub modeled: bool,
    /// Individual samples (data units), drawn as small hollow circles spread over the row.
    pub samples: Vec<f64>,
}

impl Bar {
    /// A bar without an interval.
    pub fn new(value: f64) -> Bar {
        Bar {
            value,
            low: None,
            high: None,
            open_high: false,
            modeled: false,
            samples: Vec::new(),
        }
    }

    /// With a CI.
    pub fn with_ci(mut self, low: f64, high: f64) -> Bar {
        self.low = Some(low);
        self.high = Some(high);
        self
    }
}

/// One group (e.g. a backend): a colour and one optional bar per category.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BarGroup {
    /// Legend text.
    pub label: String,
    /// Palette index.
    pub color: usize,
    /// One entry per category.
    pub values: Vec<Option<Bar>>,
}

/// A horizontal categorical chart.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BarChart {
    /// File stem and HTML id.
    pub id: String,
    /// Title.
    pub title: String,
    /// Caption (not drawn).
    pub caption: String,
    /// Width in pixels (height follows the number of rows).
    pub width: u32,
    /// Value axis.
    pub value_axis: Axis,
    /// What the whiskers span, in the legend (`95% CI` unless set).
    pub whisker_label: String,
    /// Row labels, top to bottom.
    pub categories: Vec<String>,
    /// Groups.
    pub groups: Vec<BarGroup>,
    /// Bars or dots.
    pub style: BarStyle,
    /// Vertical reference lines (`vertical` is implied).
    pub ref_lines: Vec<RefLine>,
    /// Text drawn when there is nothing to draw.
    pub empty_note: Option<String>,
}

const LEGEND_WIDTH: u32 = 330;

impl BarChart {
    /// An empty chart 1400 pixels wide.
    pub fn new(id: impl Into<String>, title: impl Into<String>, value_axis: Axis, style: BarStyle) -> BarChart {
        BarChart {
            id: id.into(),
            title: title.into(),
            caption: String::new(),
            width: 1400,
            value_axis,
            whisker_label: "95% CI".into(),
            categories: Vec::new(),
            groups: Vec::new(),
            style,
            ref_lines: Vec::new(),
            empty_note: None,
        }
    }

    fn row_height(&self) -> u32 {
        match self.style {
            BarStyle::Bars => (14 * self.groups.len().max(1) as u32 + 12).max(26),
            BarStyle::Dots => 30,
        }
    }

    /// Pixel size: height grows with the number of rows.
    pub fn size(&self) -> (u32, u32) {
        let rows = self.categories.len().max(3) as u32;
        (self.width, (150 + rows * self.row_height()).max(360))
    }

    fn label_width(&self) -> u32 {
        let longest = self
            .categories
            .iter()
            .flat_map(|c| super::wrap_label(c, 60, 2))
            .map(|line| line.chars().count())
            .max()
            .unwrap_or(8) as u32;
        (longest * font::TICK * 56 / 100 + 16).clamp(80, 540)
    }
}

pub(super) fn draw<DB: DrawingBackend>(
    chart: &BarChart,
    root: &DrawingArea<DB, Shift>,
    hover: &mut Vec<Hover>,
) -> Result<(), String> {
    let err = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
    root.fill(&WHITE).map_err(err)?;
    let (width, _) = chart.size();
    let (plot_area, legend_area) = root.split_horizontally(width.saturating_sub(LEGEND_WIDTH));
    // Every value drawn, in data units; a log axis whose data span less than a decade is
    // drawn linear.
    let data: Vec<f64> = chart
        .groups
        .iter()
        .flat_map(|g| g.values.iter().flatten())
        .flat_map(|b| {
            [Some(b.value), b.low, b.high]
                .into_iter()
                .flatten()
                .chain(b.samples.iter().copied())
        })
        .chain(chart.ref_lines.iter().flat_map(|r| {
            let (lo, hi) = r.range.unwrap_or((r.value, r.value));
            [r.value, lo, hi]
        }))
        .collect();
    let fitted_axis = chart.value_axis.fitted(data.iter().copied());
    let axis = &fitted_axis;
    let values = data.iter().filter_map(|&v| axis.to_plot(v)).collect::<Vec<_>>();
    // Bars on a linear axis start from zero, so that their lengths compare.
    let zero = (!axis.log && chart.style == BarStyle::Bars).then_some(0.0);
    let x_range = axis.plot_range(values.into_iter().chain(zero));
    let n = chart.categories.len().max(1);
    let y_range = (-0.5, n as f64 - 0.5);

    let mut builder = ChartBuilder::on(&plot_area);
    builder
        .caption(&chart.title, (font::FAMILY, font::TITLE))
        .margin(12)
        .margin_right(24)
        .x_label_area_size(58)
        .y_label_area_size(chart.label_width());
    let mut ctx = builder
        .build_cartesian_2d(x_range.0..x_range.1, y_range.0..y_range.1)
        .map_err(err)?;
    let axis_fmt = axis.clone();
    let x_fmt = move |v: &f64| axis_fmt.tick(*v);
    ctx.configure_mesh()
        .x_desc(&axis.label)
        .x_labels(axis.tick_count(x_range))
        .x_label_formatter(&x_fmt)
        .y_labels(0)
        .disable_y_mesh()
        .axis_desc_style((font::FAMILY, font::AXIS))
        .label_style((font::FAMILY, font::TICK))
        .light_line_style(RGBColor(240, 240, 240))
        .bold_line_style(RGBColor(215, 215, 215))
        .draw()
        .map_err(err)?;

    // row i (top to bottom) sits at y = n - 1 - i
    let row_y = |i: usize| (n - 1 - i) as f64;
    let groups = chart.groups.len().max(1) as f64;
    let slot = 0.8 / groups;
    for (i, category) in chart.categories.iter().enumerate() {
        // zebra stripes keep long rows readable
        if i % 2 == 1 {
            ctx.draw_series(std::iter::once(Rectangle::new(
                [(x_range.0, row_y(i) - 0.5), (x_range.1, row_y(i) + 0.5)],
                RGBColor(246, 246, 246).filled(),
            )))
            .map_err(err)?;
        }
        let (lx, ly) = ctx.backend_coord(&(x_range.0, row_y(i)));
        let style = TextStyle::from((font::FAMILY, font::TICK).into_font()).pos(Pos::new(HPos::Right, VPos::Center));
        // A long category wraps onto two lines rather than being cut.
        let lines = super::wrap_label(category, 60, 2);
        let step = font::TICK as i32 + 2;
        let top = ly - (lines.len() as i32 - 1) * step / 2;
        for (k, line) in lines.iter().enumerate() {
            root.draw(&Text::new(line.clone(), (lx - 8, top + k as i32 * step), style.clone()))
                .map_err(err)?;
        }
    }

    for line in &chart.ref_lines {
        let Some(x) = axis.to_plot(line.value) else { continue };
        let c = color(line.color);
        if let Some((lo, hi)) = line.range {
            if let (Some(lo), Some(hi)) = (axis.to_plot(lo), axis.to_plot(hi)) {
                let (lo, hi) = (lo.max(x_range.0), hi.min(x_range.1));
                if hi > lo {
                    ctx.draw_series(std::iter::once(Rectangle::new(
                        [(lo, y_range.0), (hi, y_range.1)],
                        c.mix(0.08).filled(),
                    )))
                    .map_err(err)?;
                }
            }
        }
        if x >= x_range.0 && x <= x_range.1 {
            let style = ShapeStyle::from(&c).stroke_width(2);
            ctx.draw_series(DashedLineSeries::new(vec![(x, y_range.0), (x, y_range.1)], 8, 6, style))
                .map_err(err)?;
        }
    }

    for (g, group) in chart.groups.iter().enumerate() {
        let c = color(group.color);
        for (i, bar) in group.values.iter().enumerate() {
            let Some(bar) = bar else { continue };
            let Some(v) = axis.to_plot(bar.value) else { continue };
            let center = row_y(i) + 0.4 - slot * (g as f64 + 0.5);
            let half = slot * 0.42;
            {
                let interval = match (bar.low, bar.high, bar.open_high) {
                    (Some(lo), _, true) => format!(" ({}–∞)", hover_value(lo)),
                    (Some(lo), Some(hi), false) => format!(" ({}–{})", hover_value(lo), hover_value(hi)),
                    _ => String::new(),
                };
                let text = format!(
                    "{}: {}: {} = {}{interval}{}",
                    chart.categories.get(i).map_or("", String::as_str),
                    group.label,
                    axis.label,
                    hover_value(bar.value),
                    if bar.modeled { " (modeled)" } else { "" }
                );
                let end = v.clamp(x_range.0, x_range.1);
                let (x0, y0) = ctx.backend_coord(&(x_range.0, center + half));
                let (x1, y1) = ctx.backend_coord(&(end, center - half));
                let region = match chart.style {
                    BarStyle::Bars => Hover {
                        x: x0,
                        y: y0,
                        width: (x1 - x0).max(6),
                        height: y1 - y0,
                        text,
                    },
                    BarStyle::Dots => Hover::around(ctx.backend_coord(&(end, center)), 8, text),
                };
                hover.push(region);
            }
            // The samples first, under the median and its whisker: hollow circles spread
            // over the row by a fixed pseudo-random offset (the same picture every time).
            let spread = ShapeStyle::from(&c.mix(0.55)).stroke_width(1);
            ctx.draw_series(bar.samples.iter().enumerate().filter_map(|(k, &sample)| {
                let x = axis.to_plot(sample)?;
                let jitter = ((k as f64 * 0.618_033_988_75).fract() - 0.5) * 1.6 * half;
                (x >= x_range.0 && x <= x_range.1).then(|| Circle::new((x, center + jitter), 3, spread))
            }))
            .map_err(err)?;
            // A linear axis's bars grow from zero, a log axis's from its left edge.
            let base = if axis.log { x_range.0 } else { 0f64.max(x_range.0) };
            match chart.style {
                BarStyle::Bars => {
                    let fill = if bar.modeled { c.mix(0.3).filled() } else { c.filled() };
                    ctx.draw_series(std::iter::once(Rectangle::new(
                        [(base, center - half), (v, center + half)],
                        fill,
                    )))
                    .map_err(err)?;
                    if bar.modeled {
                        ctx.draw_series(std::iter::once(Rectangle::new(
                            [(base, center - half), (v, center + half)],
                            ShapeStyle::from(&c).stroke_width(2),
                        )))
                        .map_err(err)?;
                    }
                }
                BarStyle::Dots => {
                    let fill = if bar.modeled { c.mix(0.3).filled() } else { c.filled() };
                    ctx.draw_series(std::iter::once(Circle::new((v, center), 7, fill)))
                        .map_err(err)?;
                    if bar.modeled {
                        ctx.draw_series(std::iter::once(Circle::new(
                            (v, center),
                            7,
                            ShapeStyle::from(&c).stroke_width(2),
                        )))
                        .map_err(err)?;
                    }
                }
            }
            let lo = bar.low.and_then(|l| axis.to_plot(l)).map(|l| l.max(x_range.0));
            let hi = if bar.open_high {
                Some(x_range.1)
            } else {
                bar.high.and_then(|h| axis.to_plot(h)).map(|h| h.min(x_range.1))
            };
            if let (Some(lo), Some(hi)) = (lo.or(Some(v)), hi.or(Some(v))) {
                if hi > lo {
                    let whisker = ShapeStyle::from(&BLACK).stroke_width(2);
                    let cap = half * 0.6;
                    ctx.draw_series(std::iter::once(PathElement::new(
                        vec![(lo, center), (hi, center)],
                        whisker,
                    )))
                    .map_err(err)?;
                    ctx.draw_series(std::iter::once(PathElement::new(
                        vec![(lo, center - cap), (lo, center + cap)],
                        whisker,
                    )))
                    .map_err(err)?;
                    if bar.open_high {
                        let (ax, ay) = ctx.backend_coord(&(hi, center));
                        root.draw(&Polygon::new(
                            vec![(ax, ay), (ax - 10, ay - 6), (ax - 10, ay + 6)],
                            BLACK.filled(),
                        ))
                        .map_err(err)?;
                    } else {
                        ctx.draw_series(std::iter::once(PathElement::new(
                            vec![(hi, center - cap), (hi, center + cap)],
                            whisker,
                        )))
                        .map_err(err)?;
                    }
                }
            }
        }
    }

    let (plot_x0, plot_y0) = ctx.backend_coord(&(x_range.0, y_range.1));
    let (plot_x1, plot_y1) = ctx.backend_coord(&(x_range.1, y_range.0));
    if chart.categories.is_empty() {
        if let Some(note) = &chart.empty_note {
            let style = TextStyle::from((font::FAMILY, font::AXIS).into_font())
                .color(&RGBColor(90, 90, 90))
                .pos(Pos::new(HPos::Center, VPos::Center));
            root.draw(&Text::new(
                truncate(note, 90),
                ((plot_x0 + plot_x1) / 2, (plot_y0 + plot_y1) / 2),
                style,
            ))
            .map_err(err)?;
        }
    }

    // Reference-line labels go in the legend panel (the plot is full of rows).
    let mut y = 64;
    let row = font::LEGEND as i32 + 8;
    let text_style = TextStyle::from((font::FAMILY, font::LEGEND).into_font()).pos(Pos::new(HPos::Left, VPos::Center));
    for group in &chart.groups {
        legend_area
            .draw(&Rectangle::new([(6, y - 7), (34, y + 7)], color(group.color).filled()))
            .map_err(err)?;
        legend_area
            .draw(&Text::new(truncate(&group.label, 36), (42, y), text_style.clone()))
            .map_err(err)?;
        y += row;
    }
    let any_modeled = chart
        .groups
        .iter()
        .flat_map(|g| g.values.iter().flatten())
        .any(|b| b.modeled);
    if any_modeled {
        legend_area
            .draw(&Rectangle::new(
                [(6, y - 7), (34, y + 7)],
                RGBColor(120, 120, 120).mix(0.3).filled(),
            ))
            .map_err(err)?;
        legend_area
            .draw(&Rectangle::new(
                [(6, y - 7), (34, y + 7)],
                ShapeStyle::from(&RGBColor(120, 120, 120)).stroke_width(2),
            ))
            .map_err(err)?;
        legend_area
            .draw(&Text::new("pale, outlined: MODELED", (42, y), text_style.clone()))
            .map_err(err)?;
        y += row;
    }
    let has_ci = chart
        .groups
        .iter()
        .flat_map(|g| g.values.iter().flatten())
        .any(|b| b.low.is_some() || b.high.is_some() || b.open_high);
    if has_ci {
        legend_area
            .draw(&PathElement::new(
                vec![(6, y), (34, y)],
                ShapeStyle::from(&BLACK).stroke_width(2),
            ))
            .map_err(err)?;
        legend_area
            .draw(&Text::new(
                truncate(&chart.whisker_label, 36),
                (42, y),
                text_style.clone(),
            ))
            .map_err(err)?;
        y += row;
    }
    // A label too long for one line wraps onto up to three: each line's slot grows to fit.
    let wrapped: Vec<Vec<String>> = chart
        .ref_lines
        .iter()
        .map(|l| super::wrap_label(&l.label, 36, 3))
        .collect();
    let mut ys = Vec::new();
    for lines in &wrapped {
        ys.push(y);
        y += row + (lines.len() as i32 - 1) * row * 3 / 4;
    }
    for ((line, ly), lines) in chart.ref_lines.iter().zip(ys).zip(&wrapped) {
        let c = color(line.color);
        legend_area
            .draw(&PathElement::new(
                vec![(6, ly), (15, ly)],
                ShapeStyle::from(&c).stroke_width(2),
            ))
            .map_err(err)?;
        legend_area
            .draw(&PathElement::new(
                vec![(21, ly), (30, ly)],
                ShapeStyle::from(&c).stroke_width(2),
            ))
            .map_err(err)?;
        for (i, text) in lines.iter().enumerate() {
            legend_area
                .draw(&Text::new(
                    text.clone(),
                    (42, ly + i as i32 * row * 3 / 4),
                    text_style.clone(),
                ))
                .map_err(err)?;
        }
    }
    Ok(())
}
