//! The benchmark's charts, as SVG files a README can show: the scale run's
//! throughput and bytes against entries (one line per store), and the
//! small bench's ratios (hbstore ÷ each baseline, per workload).

use std::path::Path;

use plotters::prelude::*;

use crate::error::{CliError, CliResult};

/// The stores' colours, the same in every chart: hbstore, raw RocksDB,
/// LMDB.
const COLOURS: [RGBColor; 3] = [
    RGBColor(0x1f, 0x77, 0xb4),
    RGBColor(0xd6, 0x27, 0x28),
    RGBColor(0x2c, 0xa0, 0x2c),
];

fn failed(path: &Path, reason: impl std::fmt::Display) -> CliError {
    CliError::Failed(format!("drawing the chart {}: {reason}", path.display()))
}

/// Refuses a chart file whose directory does not exist, before a run that
/// may take an hour finds out.
pub fn check_destination(path: &Path) -> CliResult {
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    if parent.is_dir() {
        Ok(())
    } else {
        Err(CliError::Invalid(format!(
            "--svg {}: no directory {} to write the chart in",
            path.display(),
            parent.display()
        )))
    }
}

/// One panel of the scale chart: a figure per store per round.
pub struct Panel<'a> {
    pub title: &'a str,
    /// How the y axis reads a value (`"ops/s"`, `"MiB"`).
    pub unit: &'a str,
    /// Per store (in `stores`' order), its (entries, value) points.
    pub lines: Vec<Vec<(f64, f64)>>,
}

/// Draws the panels in a grid of two columns into `path`: entries along x
/// (in millions), each store a line in its own colour.
pub fn scale(path: &Path, heading: &str, stores: &[&str], panels: &[Panel<'_>]) -> CliResult {
    let draw = || -> Result<(), DrawingAreaErrorKind<std::io::Error>> {
        let rows = panels.len().div_ceil(2) as u32;
        let root = SVGBackend::new(path, (1000, 60 + 330 * rows)).into_drawing_area();
        root.fill(&WHITE)?;
        let (top, body) = root.split_vertically(60);
        let top = top.titled(heading, ("sans-serif", 20))?;
        // One legend for every panel, under the heading.
        for (i, (name, colour)) in stores.iter().zip(COLOURS).enumerate() {
            let x = 380 + 130 * i as i32;
            top.draw(&PathElement::new(
                vec![(x, 12), (x + 24, 12)],
                colour.stroke_width(3),
            ))?;
            top.draw(&Text::new(
                name.to_string(),
                (x + 30, 5),
                ("sans-serif", 15),
            ))?;
        }
        let areas = body.split_evenly((rows as usize, 2));
        for (panel, area) in panels.iter().zip(&areas) {
            draw_panel(area, panel)?;
        }
        root.present()
    };
    draw().map_err(|e| failed(path, e))
}

type Area<'b> = DrawingArea<SVGBackend<'b>, plotters::coord::Shift>;

fn draw_panel(
    area: &Area<'_>,
    panel: &Panel<'_>,
) -> Result<(), DrawingAreaErrorKind<std::io::Error>> {
    let points = panel.lines.iter().flatten();
    let x_max = points.clone().map(|p| p.0).fold(0.0, f64::max) / 1e6;
    let y_max = points.map(|p| p.1).fold(0.0, f64::max) * 1.1;
    let mut chart = ChartBuilder::on(area)
        .caption(panel.title, ("sans-serif", 16))
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(70)
        .build_cartesian_2d(0.0..x_max * 1.05, 0.0..y_max.max(1.0))?;
    chart
        .configure_mesh()
        .x_desc("fields written (millions)")
        .y_desc(panel.unit)
        .y_label_formatter(&|v| short(*v))
        .light_line_style(WHITE.mix(0.0))
        .draw()?;
    for (line, colour) in panel.lines.iter().zip(COLOURS) {
        let scaled: Vec<(f64, f64)> = line.iter().map(|&(x, y)| (x / 1e6, y)).collect();
        chart.draw_series(LineSeries::new(scaled.clone(), colour.stroke_width(2)))?;
        chart.draw_series(
            scaled
                .into_iter()
                .map(|p| Circle::new(p, 3, colour.filled())),
        )?;
    }
    Ok(())
}

/// A figure with a thousands suffix, for an axis.
fn short(v: f64) -> String {
    if v >= 1e6 {
        format!("{:.1}M", v / 1e6)
    } else if v >= 1e3 {
        format!("{:.0}k", v / 1e3)
    } else {
        format!("{v:.0}")
    }
}

/// One workload of the small bench: its name and hbstore's ratio to raw
/// RocksDB and to LMDB (higher is better: a bytes row's ratio is inverted
/// by the caller, so that every bar reads the same way).
pub struct Ratios {
    pub workload: String,
    pub raw: Option<f64>,
    pub lmdb: Option<f64>,
}

/// Draws a bar per workload and baseline, on a log scale centred on 1
/// (as fast as the baseline).
pub fn ratios(path: &Path, heading: &str, rows: &[Ratios]) -> CliResult {
    let draw = || -> Result<(), DrawingAreaErrorKind<std::io::Error>> {
        let height = 90 + 34 * rows.len() as u32;
        let root = SVGBackend::new(path, (1000, height)).into_drawing_area();
        root.fill(&WHITE)?;
        let values = rows.iter().flat_map(|r| [r.raw, r.lmdb]).flatten();
        // Room on the right for the legend, clear of the longest bar.
        let high = values.clone().fold(2.0, f64::max) * 5.0;
        let low = values.fold(0.5, f64::min) / 1.3;
        let count = rows.len() as f64;
        let mut chart = ChartBuilder::on(&root)
            .caption(heading, ("sans-serif", 18))
            .margin(14)
            .x_label_area_size(40)
            .y_label_area_size(330)
            .build_cartesian_2d((low..high).log_scale(), count..0.0)?;
        let names: Vec<String> = rows.iter().map(|r| r.workload.clone()).collect();
        chart
            .configure_mesh()
            .x_desc("hbstore ÷ baseline (log scale; right of 1 is better for hbstore)")
            .x_label_formatter(&|v| format!("{v:.2}"))
            .y_labels(rows.len() * 2 + 1)
            .y_label_formatter(&|y| {
                let centre = y - 0.5;
                let index = centre.round();
                if (centre - index).abs() < 0.01 && index >= 0.0 {
                    names.get(index as usize).cloned().unwrap_or_default()
                } else {
                    String::new()
                }
            })
            .disable_y_mesh()
            .draw()?;
        for (baseline, (name, colour)) in [("raw RocksDB", COLOURS[1]), ("LMDB", COLOURS[2])]
            .into_iter()
            .enumerate()
        {
            let bars = rows.iter().enumerate().filter_map(|(i, row)| {
                let ratio = if baseline == 0 { row.raw } else { row.lmdb }?;
                let top = i as f64 + 0.15 + 0.35 * baseline as f64;
                Some(Rectangle::new(
                    [(low, top), (ratio, top + 0.33)],
                    colour.mix(0.85).filled(),
                ))
            });
            chart
                .draw_series(bars)?
                .label(format!("÷ {name}"))
                .legend(move |(x, y)| {
                    Rectangle::new([(x, y - 5), (x + 14, y + 5)], colour.filled())
                });
        }
        chart.draw_series(LineSeries::new(
            vec![(1.0, 0.0), (1.0, count)],
            BLACK.stroke_width(1),
        ))?;
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK.mix(0.3))
            .draw()?;
        root.present()?;
        Ok(())
    };
    draw().map_err(|e| failed(path, e))
}
