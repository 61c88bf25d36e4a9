//! Plots of a report, as SVG and PNG from one drawing code path per plot: a scatter of metric
//! vs OOD accuracy per metric (coloured by scale, ρ in the title), a heatmap of ρ (metric ×
//! benchmark), and bars of ρ with their intervals, sorted. Labels use the DejaVu Sans font
//! shipped in `assets/`, so they render on a headless machine with no fonts installed.

use crate::analysis::Report;
use crate::format::ranked;
use crate::runs::RunsTable;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use std::path::{Path, PathBuf};

static FONT: &[u8] = include_bytes!("../assets/DejaVuSans.ttf");

fn register_font() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        plotters::style::register_font("sans-serif", FontStyle::Normal, FONT)
            .map_err(|_| ())
            .expect("the bundled font parses");
    });
}

type DrawResult = Result<(), Box<dyn std::error::Error>>;

/// Something drawable on any plotters backend, so SVG and PNG share one code path.
trait Plot {
    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static;
}

/// One written figure.
#[derive(Debug, Clone)]
pub struct Figure {
    /// Caption for the HTML page.
    pub title: String,
    /// The PNG file.
    pub png: PathBuf,
    /// The SVG file.
    pub svg: PathBuf,
}

fn io_err(e: Box<dyn std::error::Error>) -> std::io::Error {
    std::io::Error::other(e.to_string())
}

/// Draws `plot` into `<dir>/<stem>.svg` and `<dir>/<stem>.png`, each written atomically.
fn write_both(
    dir: &Path,
    stem: &str,
    title: String,
    size: (u32, u32),
    plot: &impl Plot,
) -> std::io::Result<Figure> {
    register_font();
    std::fs::create_dir_all(dir)?;
    let mut svg = String::new();
    {
        let area = SVGBackend::with_string(&mut svg, size).into_drawing_area();
        plot.draw(&area).map_err(io_err)?;
    }
    let svg_path = dir.join(format!("{stem}.svg"));
    prism_core::atomic::write_atomic(&svg_path, svg.as_bytes())?;
    let png_path = dir.join(format!("{stem}.png"));
    let tmp = dir.join(format!(".{stem}.tmp.png"));
    {
        let area = BitMapBackend::new(&tmp, size).into_drawing_area();
        plot.draw(&area).map_err(io_err)?;
    }
    std::fs::rename(&tmp, &png_path)?;
    Ok(Figure {
        title,
        png: png_path,
        svg: svg_path,
    })
}

/// A line plot of one or more series (a loss curve, a G-Vendi curve over rounds).
pub struct Lines<'a> {
    /// The title above the plot.
    pub title: &'a str,
    /// The x axis label.
    pub x_desc: &'a str,
    /// The y axis label.
    pub y_desc: &'a str,
    /// Named series of (x, y) points, drawn in order.
    pub series: &'a [(String, Vec<(f64, f64)>)],
}

impl Plot for Lines<'_> {
    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        area.fill(&WHITE)?;
        let points = || self.series.iter().flat_map(|(_, p)| p.iter());
        let (x0, x1) = finite_range(points().map(|p| p.0));
        let (y0, y1) = finite_range(points().map(|p| p.1));
        let mut chart = xy_chart(area, self.title, x0..x1, y0..y1)?;
        chart
            .configure_mesh()
            .x_desc(self.x_desc)
            .y_desc(self.y_desc)
            .label_style(("sans-serif", 14))
            .draw()?;
        for (c, (name, points)) in self.series.iter().enumerate() {
            let color = PALETTE[c % PALETTE.len()];
            chart
                .draw_series(LineSeries::new(
                    points.iter().copied(),
                    color.stroke_width(2),
                ))?
                .label(name.as_str())
                .legend(move |p| legend_line(p, color.stroke_width(2)));
        }
        draw_legend(&mut chart)?;
        area.present()?;
        Ok(())
    }
}

/// Writes `plot` as `<dir>/<stem>.svg` and `.png` (800 × 500).
pub fn write_lines(dir: &Path, stem: &str, plot: &Lines<'_>) -> std::io::Result<Figure> {
    write_both(dir, stem, plot.title.to_string(), (800, 500), plot)
}

struct Scatter<'a> {
    runs: &'a RunsTable,
    metric: &'a str,
    rho: f64,
    /// What the y axis measures (the task's score).
    score: &'a str,
}

impl Plot for Scatter<'_> {
    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        scatter(area, self.runs, self.metric, self.rho, self.score)
    }
}

struct Heatmap<'a>(&'a Report);

impl Plot for Heatmap<'_> {
    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        heatmap(area, self.0)
    }
}

struct Bars<'a>(&'a Report);

impl Plot for Bars<'_> {
    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        bars(area, self.0)
    }
}

/// OOD accuracy against the ground-truth axis k (log₂), a series per scale.
struct Ladder<'a>(&'a Report, &'a RunsTable);

impl Plot for Ladder<'_> {
    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        ladder(area, self.0, self.1)
    }
}

fn ladder<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    report: &Report,
    runs: &RunsTable,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    area.fill(&WHITE)?;
    let Some(g) = &report.ground_truth else {
        return Ok(());
    };
    let rows: Vec<usize> = (0..runs.len())
        .filter(|&i| runs.groups_k[i].is_finite() && runs.ood_mean[i].is_finite())
        .collect();
    let (x0, x1) = finite_range(rows.iter().map(|&i| runs.groups_k[i].log2()));
    let (y0, y1) = finite_range(rows.iter().map(|&i| runs.ood_mean[i]));
    let title = format!(
        "{}: ρ = {:.3}",
        report.options.terms.ladder_title(),
        g.ood_with_k.rho
    );
    let mut chart = xy_chart(area, &title, x0..x1, y0..y1)?;
    chart
        .configure_mesh()
        .x_desc(format!(
            "k, {} per subset (log scale)",
            report.options.terms.groups
        ))
        .x_label_formatter(&|v| format!("{:.0}", 2f64.powf(*v)))
        .y_desc(format!(
            "OOD {} (declared aggregate)",
            report.options.terms.score
        ))
        .label_style(("sans-serif", 14))
        .draw()?;
    let mut scales: Vec<f64> = rows.iter().map(|&i| runs.scale[i]).collect();
    scales.sort_by(f64::total_cmp);
    scales.dedup();
    for (c, s) in scales.iter().enumerate() {
        let color = PALETTE[c % PALETTE.len()];
        let points: Vec<(f64, f64)> = rows
            .iter()
            .filter(|&&i| runs.scale[i] == *s)
            .map(|&i| (runs.groups_k[i].log2(), runs.ood_mean[i]))
            .collect();
        chart.draw_series(
            points
                .into_iter()
                .map(|p| Circle::new(p, 4, color.mix(0.5).filled())),
        )?;
        let means: Vec<(f64, f64)> = g
            .ladder
            .iter()
            .filter(|r| r.scale == *s && r.ood_mean.is_finite())
            .map(|r| (r.k.log2(), r.ood_mean))
            .collect();
        chart
            .draw_series(LineSeries::new(means, color.stroke_width(3)))?
            .label(format!("n = {s} (line: mean per k)"))
            .legend(move |p| legend_line(p, color.stroke_width(3)));
    }
    draw_legend(&mut chart)?;
    area.present()?;
    Ok(())
}

/// A titled chart over `x × y` with the margins and axis areas every x-y plot here uses.
fn xy_chart<'a, DB: DrawingBackend + 'a>(
    area: &'a DrawingArea<DB, Shift>,
    title: &str,
    x: std::ops::Range<f64>,
    y: std::ops::Range<f64>,
) -> Result<XyChart<'a, DB>, Box<dyn std::error::Error>>
where
    DB::ErrorType: 'static,
{
    Ok(ChartBuilder::on(area)
        .caption(title, ("sans-serif", 22))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(x, y)?)
}

/// What [`xy_chart`] builds.
type XyChart<'a, DB> = ChartContext<
    'a,
    DB,
    Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>,
>;

/// The legend of a chart's labelled series, boxed, at the top right.
fn draw_legend<'a, DB: DrawingBackend + 'a, CT: CoordTranslate>(
    chart: &mut ChartContext<'a, DB, CT>,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    chart
        .configure_series_labels()
        .label_font(("sans-serif", 14))
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()?;
    Ok(())
}

/// A line series' legend mark: a short stroke at `(x, y)`.
fn legend_line((x, y): (i32, i32), style: ShapeStyle) -> PathElement<(i32, i32)> {
    PathElement::new(vec![(x, y), (x + 16, y)], style)
}

fn file_stem(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Writes every plot of `report` into `dir`: the ρ bars, the heatmap, and one scatter per
/// metric, in that order.
pub fn write_plots(report: &Report, runs: &RunsTable, dir: &Path) -> std::io::Result<Vec<Figure>> {
    let tall = (900, (120 + 28 * report.metrics.len()) as u32);
    let mut figures = Vec::new();
    if report.ground_truth.is_some() {
        figures.push(write_both(
            dir,
            "ood-vs-k",
            format!(
                "{} (the ground-truth diversity axis)",
                report.options.terms.ladder_title()
            ),
            (800, 560),
            &Ladder(report, runs),
        )?);
    }
    figures.extend([
        write_both(
            dir,
            "rho-bars",
            format!(
                "ρ with the OOD {}, sorted, with bootstrap intervals",
                report.options.terms.score
            ),
            tall,
            &Bars(report),
        )?,
        write_both(
            dir,
            "rho-heatmap",
            format!("ρ per benchmark (and ID {})", report.options.terms.score),
            (900, tall.1 + 80),
            &Heatmap(report),
        )?,
    ]);
    for name in ranked(report) {
        let rho = report.metrics[name].rho;
        let plot = Scatter {
            runs,
            metric: name,
            rho,
            score: &report.options.terms.score,
        };
        figures.push(write_both(
            dir,
            &format!("scatter-{}", file_stem(name)),
            format!("{name} vs OOD {}", report.options.terms.score),
            (800, 560),
            &plot,
        )?);
    }
    Ok(figures)
}

/// A category axis of `n` segments (plotters' segmented range `0..k` has k + 1 segments).
fn categories(
    n: usize,
) -> plotters::coord::ranged1d::SegmentedCoord<plotters::coord::types::RangedCoordusize> {
    (0..n.saturating_sub(1).max(1)).into_segmented()
}

/// The label of a category axis position: rows are drawn bottom-up, so `reversed` maps the
/// top row to the first name.
fn category<S: AsRef<str>>(value: &SegmentValue<usize>, names: &[S], reversed: bool) -> String {
    match value {
        SegmentValue::CenterOf(i) if *i < names.len() => {
            let k = if reversed { names.len() - 1 - i } else { *i };
            names[k].as_ref().to_string()
        }
        _ => String::new(),
    }
}

/// The colours of successive scales.
const PALETTE: [RGBColor; 6] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
];

fn finite_range(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) = values
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
            (a.min(v), b.max(v))
        });
    if !lo.is_finite() {
        return (0.0, 1.0);
    }
    let pad = ((hi - lo) * 0.05).max(1e-9);
    (lo - pad, hi + pad)
}

fn scatter<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    runs: &RunsTable,
    metric: &str,
    rho: f64,
    score: &str,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    area.fill(&WHITE)?;
    let x = &runs.metrics[metric];
    let (x0, x1) = finite_range(x.iter().copied());
    let (y0, y1) = finite_range(runs.ood_mean.iter().copied());
    let title = format!("{metric}: Spearman ρ = {rho:.3}");
    let mut chart = xy_chart(area, &title, x0..x1, y0..y1)?;
    chart
        .configure_mesh()
        .x_desc(metric)
        .y_desc(format!("OOD {score} (mean)"))
        .label_style(("sans-serif", 14))
        .draw()?;
    let mut scales: Vec<f64> = runs.scale.clone();
    scales.sort_by(f64::total_cmp);
    scales.dedup();
    for (k, s) in scales.iter().enumerate() {
        let color = PALETTE[k % PALETTE.len()];
        let points: Vec<(f64, f64)> = (0..runs.len())
            .filter(|i| runs.scale[*i] == *s && x[*i].is_finite() && runs.ood_mean[*i].is_finite())
            .map(|i| (x[i], runs.ood_mean[i]))
            .collect();
        chart
            .draw_series(
                points
                    .into_iter()
                    .map(|p| Circle::new(p, 5, color.filled())),
            )?
            .label(format!("n = {s}"))
            .legend(move |(px, py)| Circle::new((px + 8, py), 5, color.filled()));
    }
    draw_legend(&mut chart)?;
    area.present()?;
    Ok(())
}

fn heatmap<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, report: &Report) -> DrawResult
where
    DB::ErrorType: 'static,
{
    area.fill(&WHITE)?;
    let metrics = ranked(report);
    let mut columns: Vec<String> = report.benchmarks.clone();
    columns.push("id_acc".into());
    let (cols, rows) = (columns.len(), metrics.len());
    let mut chart = ChartBuilder::on(area)
        .caption("Spearman ρ: metric × benchmark", ("sans-serif", 22))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(230)
        .build_cartesian_2d(categories(cols), categories(rows))?;
    chart
        .configure_mesh()
        .disable_mesh()
        .x_labels(cols)
        .y_labels(rows)
        .x_label_formatter(&|c| category(c, &columns, false))
        .y_label_formatter(&|r| category(r, &metrics, true))
        .x_label_style(("sans-serif", 13))
        .y_label_style(("sans-serif", 13))
        .draw()?;
    for (r, name) in metrics.iter().enumerate() {
        let m = &report.metrics[*name];
        for (c, col) in columns.iter().enumerate() {
            let rho = if col == "id_acc" {
                m.id_acc.rho
            } else {
                m.benches[col].rho
            };
            let color = if rho.is_nan() {
                RGBColor(220, 220, 220)
            } else if rho >= 0.0 {
                let t = rho.min(1.0);
                RGBColor(
                    (255.0 * (1.0 - t)) as u8 + (180.0 * t) as u8,
                    (255.0 * (1.0 - t)) as u8 + (30.0 * t) as u8,
                    (255.0 * (1.0 - t)) as u8 + (40.0 * t) as u8,
                )
            } else {
                let t = (-rho).min(1.0);
                RGBColor(
                    (255.0 * (1.0 - t)) as u8 + (30.0 * t) as u8,
                    (255.0 * (1.0 - t)) as u8 + (80.0 * t) as u8,
                    (255.0 * (1.0 - t)) as u8 + (180.0 * t) as u8,
                )
            };
            let y = rows - 1 - r;
            let cell = [
                (SegmentValue::Exact(c), SegmentValue::Exact(y)),
                (SegmentValue::Exact(c + 1), SegmentValue::Exact(y + 1)),
            ];
            chart.draw_series(std::iter::once(Rectangle::new(cell, color.filled())))?;
            let label = if rho.is_nan() {
                "–".to_string()
            } else {
                format!("{rho:.2}")
            };
            let style = TextStyle::from(("sans-serif", 14).into_font())
                .pos(Pos::new(HPos::Center, VPos::Center));
            let at = (SegmentValue::CenterOf(c), SegmentValue::CenterOf(y));
            chart.draw_series(std::iter::once(Text::new(label, at, style)))?;
        }
    }
    area.present()?;
    Ok(())
}

fn bars<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, report: &Report) -> DrawResult
where
    DB::ErrorType: 'static,
{
    area.fill(&WHITE)?;
    let metrics = ranked(report);
    let rows = metrics.len();
    let mut chart = ChartBuilder::on(area)
        .caption(
            format!(
                "Spearman ρ with OOD {} (bootstrap CI)",
                report.options.terms.score
            ),
            ("sans-serif", 22),
        )
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(230)
        .build_cartesian_2d(-1.0f64..1.0f64, categories(rows))?;
    chart
        .configure_mesh()
        .y_labels(rows)
        .y_label_formatter(&|r| category(r, &metrics, true))
        .x_desc("ρ")
        .label_style(("sans-serif", 13))
        .draw()?;
    for (r, name) in metrics.iter().enumerate() {
        let m = &report.metrics[*name];
        if m.rho.is_nan() {
            continue;
        }
        let y = rows - 1 - r;
        let color = if m.rho >= 0.0 {
            RGBColor(31, 119, 180)
        } else {
            RGBColor(214, 39, 40)
        };
        let bar = [
            (0.0, SegmentValue::Exact(y)),
            (m.rho, SegmentValue::Exact(y + 1)),
        ];
        chart.draw_series(std::iter::once(Rectangle::new(
            bar,
            color.mix(0.7).filled(),
        )))?;
        if m.ci_low.is_finite() && m.ci_high.is_finite() {
            let ci = vec![
                (m.ci_low, SegmentValue::CenterOf(y)),
                (m.ci_high, SegmentValue::CenterOf(y)),
            ];
            chart.draw_series(std::iter::once(PathElement::new(ci, BLACK.stroke_width(2))))?;
        }
    }
    area.present()?;
    Ok(())
}
