//! Scatter and line charts: points, fitted lines with CI bands, reference lines.

use super::{color, font, hover_value, spread_labels, truncate, Axis, Hover};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use serde::Serialize;

/// Marker drawn at each point.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Marker {
    /// No marker (lines only).
    None,
    /// Circle.
    Circle,
    /// Upward triangle.
    Triangle,
    /// Square.
    Square,
    /// Diamond.
    Diamond,
    /// Large star-like cross, for "this machine".
    Star,
    /// A 3-pixel dot, for thousands of points (a spike raster).
    Dot,
}

/// How points of a series are joined.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum LineKind {
    /// Not joined.
    None,
    /// Solid line.
    Solid,
    /// Dashed line.
    Dashed,
}

/// One point, with an optional vertical error bar (data units).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Point {
    /// x.
    pub x: f64,
    /// y.
    pub y: f64,
    /// Error bar, low and high y.
    pub y_err: Option<(f64, f64)>,
}

impl Point {
    /// A point without an error bar.
    pub fn new(x: f64, y: f64) -> Point {
        Point { x, y, y_err: None }
    }
}

/// A named set of points.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Series {
    /// Legend text.
    pub label: String,
    /// Palette index.
    pub color: usize,
    /// Marker.
    pub marker: Marker,
    /// Filled (true) or hollow marker.
    pub filled: bool,
    /// Joining line.
    pub line: LineKind,
    /// The points, in drawing order.
    pub points: Vec<Point>,
    /// Whether the legend lists it (series sharing a label list once).
    pub in_legend: bool,
    /// A label written on the plot beside the line (a roofline's ceilings): at the right
    /// end of a level line, a quarter of the way along a sloped one.
    pub line_label: Option<String>,
}

impl Series {
    /// Markers only.
    pub fn points(label: impl Into<String>, color: usize, marker: Marker, points: Vec<Point>) -> Series {
        Series {
            label: label.into(),
            color,
            marker,
            filled: true,
            line: LineKind::None,
            points,
            in_legend: true,
            line_label: None,
        }
    }

    /// A line without markers.
    pub fn line(label: impl Into<String>, color: usize, line: LineKind, points: Vec<Point>) -> Series {
        Series {
            label: label.into(),
            color,
            marker: Marker::None,
            filled: true,
            line,
            points,
            in_legend: true,
            line_label: None,
        }
    }
}

/// A shaded band between two curves (a CI), given as (x, low, high).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Band {
    /// Legend text.
    pub label: String,
    /// Palette index.
    pub color: usize,
    /// (x, low, high) in data units, x increasing.
    pub points: Vec<(f64, f64, f64)>,
}

/// A horizontal (or vertical) reference line with a label drawn beside it, optionally with
/// a shaded range.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RefLine {
    /// Label drawn at the line's end.
    pub label: String,
    /// Value in data units (y for horizontal, x for vertical lines).
    pub value: f64,
    /// Shaded range (low, high), e.g. a brain estimate's plausible range.
    pub range: Option<(f64, f64)>,
    /// Vertical instead of horizontal.
    pub vertical: bool,
    /// Dashed.
    pub dashed: bool,
    /// Palette index.
    pub color: usize,
}

impl RefLine {
    /// A dashed horizontal line.
    pub fn horizontal(label: impl Into<String>, value: f64, color: usize) -> RefLine {
        RefLine {
            label: label.into(),
            value,
            range: None,
            vertical: false,
            dashed: true,
            color,
        }
    }

    /// A dashed vertical line.
    pub fn vertical(label: impl Into<String>, value: f64, color: usize) -> RefLine {
        RefLine {
            vertical: true,
            ..RefLine::horizontal(label, value, color)
        }
    }
}

/// A scatter/line chart.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct XyChart {
    /// File stem and HTML id.
    pub id: String,
    /// Title drawn on top.
    pub title: String,
    /// Caption for the page (not drawn).
    pub caption: String,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// x axis.
    pub x: Axis,
    /// y axis.
    pub y: Axis,
    /// CI bands, drawn first.
    pub bands: Vec<Band>,
    /// Reference lines.
    pub ref_lines: Vec<RefLine>,
    /// Series, drawn in order.
    pub series: Vec<Series>,
    /// Text shown in the plot when there is nothing to draw.
    pub empty_note: Option<String>,
    /// Extra lines at the foot of the legend (e.g. what marker shapes mean).
    pub legend_notes: Vec<String>,
}

impl XyChart {
    /// An empty 1200×720 chart.
    pub fn new(id: impl Into<String>, title: impl Into<String>, x: Axis, y: Axis) -> XyChart {
        XyChart {
            id: id.into(),
            title: title.into(),
            caption: String::new(),
            width: 1200,
            height: 720,
            x,
            y,
            bands: Vec::new(),
            ref_lines: Vec::new(),
            series: Vec::new(),
            empty_note: None,
            legend_notes: Vec::new(),
        }
    }

    /// Whether any series has a point.
    pub fn has_data(&self) -> bool {
        self.series.iter().any(|s| !s.points.is_empty())
    }
}

const LEGEND_WIDTH: u32 = 330;

pub(super) fn draw<DB: DrawingBackend>(
    chart: &XyChart,
    root: &DrawingArea<DB, Shift>,
    hover: &mut Vec<Hover>,
) -> Result<(), String> {
    // The values the axes must show, in data units: the series (with their error bars) and
    // the reference lines. Confidence bands are not among them: a band is clipped to the
    // range the data set, so that a wide one cannot stretch an axis over decades.
    let x_data: Vec<f64> = chart
        .series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.x))
        .chain(chart.bands.iter().flat_map(|b| b.points.iter().map(|p| p.0)))
        .chain(chart.ref_lines.iter().filter(|r| r.vertical).map(|r| r.value))
        .collect();
    let y_data: Vec<f64> = chart
        .series
        .iter()
        .flat_map(|s| {
            s.points.iter().flat_map(|p| {
                let (lo, hi) = p.y_err.unwrap_or((p.y, p.y));
                [p.y, lo, hi]
            })
        })
        .chain(chart.ref_lines.iter().filter(|r| !r.vertical).map(|r| r.value))
        .collect();
    // Log axes whose data span less than a decade are drawn linear.
    let fitted;
    let chart = {
        let x = chart.x.fitted(x_data.iter().copied());
        let y = chart.y.fitted(y_data.iter().copied());
        if x != chart.x || y != chart.y {
            fitted = XyChart { x, y, ..chart.clone() };
            &fitted
        } else {
            chart
        }
    };
    let err = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
    root.fill(&WHITE).map_err(err)?;
    let (plot_area, legend_area) = root.split_horizontally(chart.width.saturating_sub(LEGEND_WIDTH));

    let x_range = chart.x.plot_range(x_data.iter().filter_map(|&v| chart.x.to_plot(v)));
    let y_range = chart.y.plot_range(y_data.iter().filter_map(|&v| chart.y.to_plot(v)));

    let mut builder = ChartBuilder::on(&plot_area);
    builder
        .caption(&chart.title, (font::FAMILY, font::TITLE))
        .margin(12)
        .margin_right(24)
        .x_label_area_size(58)
        .y_label_area_size(84);
    let mut ctx = builder
        .build_cartesian_2d(x_range.0..x_range.1, y_range.0..y_range.1)
        .map_err(err)?;
    let x_axis = chart.x.clone();
    let y_axis = chart.y.clone();
    let x_fmt = move |v: &f64| x_axis.tick(*v);
    let y_fmt = move |v: &f64| y_axis.tick(*v);
    ctx.configure_mesh()
        .x_desc(&chart.x.label)
        .y_desc(&chart.y.label)
        .x_labels(chart.x.tick_count(x_range))
        .y_labels(chart.y.tick_count(y_range))
        .x_label_formatter(&x_fmt)
        .y_label_formatter(&y_fmt)
        .axis_desc_style((font::FAMILY, font::AXIS))
        .label_style((font::FAMILY, font::TICK))
        .light_line_style(RGBColor(240, 240, 240))
        .bold_line_style(RGBColor(215, 215, 215))
        .draw()
        .map_err(err)?;

    let px = |v: f64| chart.x.to_plot(v);
    let py = |v: f64| chart.y.to_plot(v);
    // A series' points in plotting coordinates (those the axes can show).
    let plotted = |series: &Series| -> Vec<(f64, f64)> {
        series
            .points
            .iter()
            .filter_map(|p| Some((px(p.x)?, py(p.y)?)))
            .collect()
    };

    for band in &chart.bands {
        // Clipped to the plotted range (a band at or below zero on a log axis starts at the
        // bottom edge).
        let clip = |v: f64| py(v).unwrap_or(y_range.0).clamp(y_range.0, y_range.1);
        let upper = band.points.iter().filter_map(|&(x, _, hi)| Some((px(x)?, clip(hi))));
        let lower = band
            .points
            .iter()
            .rev()
            .filter_map(|&(x, lo, _)| Some((px(x)?, clip(lo))));
        let polygon: Vec<(f64, f64)> = upper.chain(lower).collect();
        if polygon.len() >= 3 {
            ctx.draw_series(std::iter::once(Polygon::new(
                polygon,
                color(band.color).mix(0.18).filled(),
            )))
            .map_err(err)?;
        }
    }

    // Reference lines and their shaded ranges; labels are placed after, spread apart.
    let mut h_labels: Vec<(i32, String, RGBColor)> = Vec::new();
    let mut v_labels: Vec<(i32, String, RGBColor)> = Vec::new();
    for line in &chart.ref_lines {
        let c = color(line.color);
        let style = ShapeStyle::from(&c).stroke_width(2);
        if line.vertical {
            let Some(x) = px(line.value) else { continue };
            if x < x_range.0 || x > x_range.1 {
                continue;
            }
            let path = vec![(x, y_range.0), (x, y_range.1)];
            if line.dashed {
                ctx.draw_series(DashedLineSeries::new(path, 8, 6, style)).map_err(err)?;
            } else {
                ctx.draw_series(LineSeries::new(path, style)).map_err(err)?;
            }
            v_labels.push((ctx.backend_coord(&(x, y_range.1)).0, line.label.clone(), c));
        } else {
            let Some(y) = py(line.value) else { continue };
            if let Some((lo, hi)) = line.range {
                if let (Some(lo), Some(hi)) = (py(lo), py(hi)) {
                    let lo = lo.max(y_range.0);
                    let hi = hi.min(y_range.1);
                    if hi > lo {
                        ctx.draw_series(std::iter::once(Rectangle::new(
                            [(x_range.0, lo), (x_range.1, hi)],
                            c.mix(0.08).filled(),
                        )))
                        .map_err(err)?;
                    }
                }
            }
            if y < y_range.0 || y > y_range.1 {
                continue;
            }
            let path = vec![(x_range.0, y), (x_range.1, y)];
            if line.dashed {
                ctx.draw_series(DashedLineSeries::new(path, 8, 6, style)).map_err(err)?;
            } else {
                ctx.draw_series(LineSeries::new(path, style)).map_err(err)?;
            }
            h_labels.push((ctx.backend_coord(&(x_range.0, y)).1, line.label.clone(), c));
        }
    }

    // Each series in turn, its line then its markers (a later series draws over an earlier one).
    for series in &chart.series {
        let c = color(series.color);
        let pts = plotted(series);
        match series.line {
            LineKind::Solid => {
                ctx.draw_series(LineSeries::new(pts.clone(), ShapeStyle::from(&c).stroke_width(3)))
                    .map_err(err)?;
            }
            LineKind::Dashed => {
                ctx.draw_series(DashedLineSeries::new(
                    pts.clone(),
                    10,
                    6,
                    ShapeStyle::from(&c).stroke_width(3),
                ))
                .map_err(err)?;
            }
            LineKind::None => {}
        }
        for p in &series.points {
            if let (Some((lo, hi)), Some(x)) = (p.y_err, px(p.x)) {
                if let (Some(lo), Some(hi)) = (py(lo), py(hi)) {
                    ctx.draw_series(std::iter::once(PathElement::new(
                        vec![(x, lo), (x, hi)],
                        ShapeStyle::from(&c).stroke_width(2),
                    )))
                    .map_err(err)?;
                }
            }
        }
        for &(x, y) in &pts {
            draw_marker(&mut ctx, series.marker, (x, y), c, series.filled).map_err(err)?;
        }
        for p in &series.points {
            let (Some(x), Some(y)) = (px(p.x), py(p.y)) else {
                continue;
            };
            if x < x_range.0 || x > x_range.1 || y < y_range.0 || y > y_range.1 {
                continue;
            }
            let ci = p.y_err.map_or(String::new(), |(lo, hi)| {
                format!(" ({}–{})", hover_value(lo), hover_value(hi))
            });
            let text = format!(
                "{}: {} = {}; {} = {}{ci}",
                series.label,
                chart.x.label,
                hover_value(p.x),
                chart.y.label,
                hover_value(p.y)
            );
            // Lines without markers get a smaller target, so that they do not hide points.
            let radius = if series.marker == Marker::None { 4 } else { 7 };
            hover.push(Hover::around(ctx.backend_coord(&(x, y)), radius, text));
        }
    }

    // Labels on the lines, on top: level lines at their left end, above the line; sloped
    // ones above and left of the line, most of the way up (where nothing can lie above a
    // roof, so no point hides under one); each kind spread apart so that no two overlap.
    let mut level_labels: Vec<((i32, i32), String, RGBColor)> = Vec::new();
    let mut sloped_labels: Vec<((i32, i32), String, RGBColor)> = Vec::new();
    for series in &chart.series {
        let Some(text) = &series.line_label else { continue };
        let pts = plotted(series);
        let (Some(&first), Some(&last)) = (pts.first(), pts.last()) else {
            continue;
        };
        let c = color(series.color);
        if (first.1 - last.1).abs() < 1e-9 {
            level_labels.push((ctx.backend_coord(&first), text.clone(), c));
        } else {
            let at = (first.0 + 0.6 * (last.0 - first.0), first.1 + 0.6 * (last.1 - first.1));
            sloped_labels.push((ctx.backend_coord(&at), text.clone(), c));
        }
    }
    {
        let (_, plot_top) = ctx.backend_coord(&(x_range.0, y_range.1));
        let (plot_right, plot_bottom) = ctx.backend_coord(&(x_range.1, y_range.0));
        let gap = font::LABEL as i32 + 4;
        let half = font::LABEL as i32 / 2 + 1;
        // `anchor` is the text's left end (`left`) or right end.
        let draw_label = |text: &str, anchor: (i32, i32), left: bool, c: &RGBColor| -> Result<(), String> {
            let text = truncate(text, 40);
            let width = (text.chars().count() as u32 * font::LABEL * 58 / 100) as i32 + 8;
            let (x0, x1) = if left {
                (anchor.0 - 2, anchor.0 + width)
            } else {
                (anchor.0 - width, anchor.0 + 2)
            };
            root.draw(&Rectangle::new(
                [(x0, anchor.1 - half), (x1, anchor.1 + half)],
                WHITE.mix(0.85).filled(),
            ))
            .map_err(err)?;
            let (h, x) = if left {
                (HPos::Left, anchor.0 + 2)
            } else {
                (HPos::Right, anchor.0 - 2)
            };
            let style = TextStyle::from((font::FAMILY, font::LABEL).into_font())
                .color(c)
                .pos(Pos::new(h, VPos::Center));
            root.draw(&Text::new(text, (x, anchor.1), style)).map_err(err)
        };
        level_labels.sort_by_key(|l| l.0 .1);
        let wanted: Vec<i32> = level_labels.iter().map(|((_, y), _, _)| y - half - 2).collect();
        let placed = spread_labels(&wanted, gap, plot_top + half, plot_bottom - half);
        for (((x, _), text, c), y) in level_labels.iter().zip(placed) {
            draw_label(text, ((*x).min(plot_right - 240) + 40, y), true, c)?;
        }
        sloped_labels.sort_by_key(|l| l.0 .1);
        let wanted: Vec<i32> = sloped_labels.iter().map(|((_, y), _, _)| y - half - 4).collect();
        let placed = spread_labels(&wanted, gap, plot_top + half, plot_bottom - half);
        for (((x, _), text, c), y) in sloped_labels.iter().zip(placed) {
            draw_label(text, (x - 8, y), false, c)?;
        }
    }

    if !chart.has_data() {
        if let Some(note) = &chart.empty_note {
            let (x0, y0) = ctx.backend_coord(&(x_range.0, y_range.1));
            let (x1, y1) = ctx.backend_coord(&(x_range.1, y_range.0));
            let style = TextStyle::from((font::FAMILY, font::AXIS).into_font())
                .color(&RGBColor(90, 90, 90))
                .pos(Pos::new(HPos::Center, VPos::Center));
            root.draw(&Text::new(truncate(note, 90), ((x0 + x1) / 2, (y0 + y1) / 2), style))
                .map_err(err)?;
        }
    }

    // Labels of horizontal lines: inside the plot, left edge, just above the line.
    let (plot_x0, plot_y0) = ctx.backend_coord(&(x_range.0, y_range.1));
    let (plot_x1, plot_y1) = ctx.backend_coord(&(x_range.1, y_range.0));
    let gap = font::LABEL as i32 + 3;
    let wanted: Vec<i32> = h_labels.iter().map(|(y, _, _)| y - gap / 2 - 3).collect();
    let placed = spread_labels(&wanted, gap, plot_y0 + gap / 2, plot_y1 - gap / 2);
    for ((_, text, c), y) in h_labels.iter().zip(placed) {
        let text = truncate(text, 60);
        let width = (text.chars().count() as u32 * font::LABEL * 58 / 100) as i32 + 8;
        let half = font::LABEL as i32 / 2 + 1;
        root.draw(&Rectangle::new(
            [(plot_x0 + 4, y - half), (plot_x0 + 4 + width, y + half)],
            WHITE.mix(0.85).filled(),
        ))
        .map_err(err)?;
        let style = TextStyle::from((font::FAMILY, font::LABEL).into_font())
            .color(c)
            .pos(Pos::new(HPos::Left, VPos::Center));
        root.draw(&Text::new(text, (plot_x0 + 8, y), style)).map_err(err)?;
    }
    // Labels of vertical lines: rotated would be hard to read; write them at the top,
    // spread horizontally.
    let vgap = 14;
    let wanted: Vec<i32> = v_labels.iter().map(|(x, _, _)| x + 4).collect();
    let placed = spread_labels(&wanted, vgap * 4, plot_x0, plot_x1 - 40);
    for (i, ((_, text, c), x)) in v_labels.iter().zip(placed).enumerate() {
        let style = TextStyle::from((font::FAMILY, font::LABEL).into_font())
            .color(c)
            .pos(Pos::new(HPos::Left, VPos::Top));
        let row = (i % 2) as i32;
        root.draw(&Text::new(
            truncate(text, 24),
            (x, plot_y0 + 4 + row * (font::LABEL as i32 + 2)),
            style,
        ))
        .map_err(err)?;
    }

    draw_legend(chart, &legend_area).map_err(err)?;
    Ok(())
}

fn draw_marker<DB: DrawingBackend, CT: plotters::coord::CoordTranslate<From = (f64, f64)>>(
    ctx: &mut ChartContext<'_, DB, CT>,
    marker: Marker,
    at: (f64, f64),
    c: RGBColor,
    filled: bool,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let style = if filled {
        c.filled()
    } else {
        ShapeStyle::from(&c).stroke_width(2)
    };
    let area = ctx.plotting_area();
    match marker {
        Marker::None => Ok(()),
        Marker::Circle => area.draw(&Circle::new(at, 6, style)),
        Marker::Dot => area.draw(&(EmptyElement::at(at) + Rectangle::new([(-1, -1), (1, 1)], c.filled()))),
        Marker::Square => area.draw(&(EmptyElement::at(at) + Rectangle::new([(-5, -5), (5, 5)], style))),
        Marker::Triangle => area.draw(&(EmptyElement::at(at) + Polygon::new(vec![(0, -7), (-7, 5), (7, 5)], style))),
        Marker::Diamond => {
            area.draw(&(EmptyElement::at(at) + Polygon::new(vec![(0, -7), (-7, 0), (0, 7), (7, 0)], style)))
        }
        Marker::Star => {
            let outline = ShapeStyle::from(&BLACK).stroke_width(2);
            area.draw(
                &(EmptyElement::at(at)
                    + Polygon::new(star_points(11, 5), c.filled())
                    + PathElement::new(close(star_points(11, 5)), outline)),
            )
        }
    }
}

fn star_points(outer: i32, inner: i32) -> Vec<(i32, i32)> {
    (0..10)
        .map(|i| {
            let r = if i % 2 == 0 { outer } else { inner } as f64;
            let a = std::f64::consts::PI * (i as f64 / 5.0) - std::f64::consts::FRAC_PI_2;
            ((r * a.cos()).round() as i32, (r * a.sin()).round() as i32)
        })
        .collect()
}

fn close(mut points: Vec<(i32, i32)>) -> Vec<(i32, i32)> {
    if let Some(&first) = points.first() {
        points.push(first);
    }
    points
}

fn draw_legend<DB: DrawingBackend>(
    chart: &XyChart,
    area: &DrawingArea<DB, Shift>,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let mut y = 64;
    let row = font::LEGEND as i32 + 8;
    let text_style = TextStyle::from((font::FAMILY, font::LEGEND).into_font()).pos(Pos::new(HPos::Left, VPos::Center));
    let max_rows = ((chart.height as i32 - y - 20) / row).max(1) as usize;
    let mut entries: Vec<(String, Option<&Series>, Option<&Band>)> = Vec::new();
    for s in chart.series.iter().filter(|s| s.in_legend && !s.points.is_empty()) {
        entries.push((s.label.clone(), Some(s), None));
    }
    for b in &chart.bands {
        entries.push((b.label.clone(), None, Some(b)));
    }
    let max_rows = max_rows.saturating_sub(chart.legend_notes.len()).max(1);
    let hidden = entries.len().saturating_sub(max_rows);
    let shown = if hidden > 0 { max_rows - 1 } else { entries.len() };
    for (label, series, band) in entries.iter().take(shown) {
        if let Some(s) = series {
            let c = color(s.color);
            match s.line {
                LineKind::Solid => area.draw(&PathElement::new(
                    vec![(6, y), (34, y)],
                    ShapeStyle::from(&c).stroke_width(3),
                ))?,
                LineKind::Dashed => {
                    area.draw(&PathElement::new(
                        vec![(6, y), (15, y)],
                        ShapeStyle::from(&c).stroke_width(3),
                    ))?;
                    area.draw(&PathElement::new(
                        vec![(21, y), (30, y)],
                        ShapeStyle::from(&c).stroke_width(3),
                    ))?;
                }
                LineKind::None => {}
            }
            let style = if s.filled {
                c.filled()
            } else {
                ShapeStyle::from(&c).stroke_width(2)
            };
            let at = (20, y);
            match s.marker {
                Marker::None => {}
                Marker::Circle => area.draw(&Circle::new(at, 6, style))?,
                Marker::Dot => area.draw(&(EmptyElement::at(at) + Rectangle::new([(-3, -3), (3, 3)], c.filled())))?,
                Marker::Square => area.draw(&(EmptyElement::at(at) + Rectangle::new([(-5, -5), (5, 5)], style)))?,
                Marker::Triangle => {
                    area.draw(&(EmptyElement::at(at) + Polygon::new(vec![(0, -7), (-7, 5), (7, 5)], style)))?
                }
                Marker::Diamond => {
                    area.draw(&(EmptyElement::at(at) + Polygon::new(vec![(0, -7), (-7, 0), (0, 7), (7, 0)], style)))?
                }
                Marker::Star => area.draw(
                    &(EmptyElement::at(at)
                        + Polygon::new(star_points(11, 5), c.filled())
                        + PathElement::new(close(star_points(11, 5)), ShapeStyle::from(&BLACK).stroke_width(2))),
                )?,
            }
        } else if let Some(b) = band {
            area.draw(&Rectangle::new(
                [(6, y - 7), (34, y + 7)],
                color(b.color).mix(0.25).filled(),
            ))?;
        }
        for (i, line) in super::wrap_label(label, 36, 3).iter().enumerate() {
            if i > 0 {
                y += row * 3 / 4;
            }
            area.draw(&Text::new(line.clone(), (42, y), text_style.clone()))?;
        }
        y += row;
    }
    if hidden > 0 {
        area.draw(&Text::new(
            format!("… and {} more (see table)", hidden + 1),
            (42, y),
            text_style.clone(),
        ))?;
        y += row;
    }
    for note in &chart.legend_notes {
        area.draw(&Text::new(truncate(note, 40), (6, y), text_style.clone()))?;
        y += row;
    }
    Ok(())
}
