//! Charts drawn on the server as SVG strings: bars (health distribution),
//! lines over dates (alerts per day, a customer's health history with the
//! band thresholds), and a progress bar for KPI tiles. Pure functions: no IO,
//! deterministic output, every text escaped, `role="img"` and a `<title>` on
//! each chart, presentation attributes and classes only (the CSP forbids
//! inline style), and a "no data" chart instead of a panic on empty input.

use crate::html_escape as esc;
use std::fmt::Write as _;

// The drawing is 400 units wide and is shown at least 320 px wide (the
// grid's narrowest card), so a unit is at least 0.8 px and text of
// FONT units is at least 12 px at normal zoom (the stylesheet sets the
// same size for `.chart text`).
const W: f64 = 400.0;
const H: f64 = 230.0;
const LEFT: f64 = 52.0;
const RIGHT: f64 = 10.0;
const TOP: f64 = 14.0;
const BOTTOM: f64 = 46.0;
/// Font size of every text of a chart, in drawing units.
pub const FONT: f64 = 15.0;

/// Colour of a band or severity name.
pub fn colour(name: &str) -> &'static str {
    match name {
        "healthy" | "low" => "#2e7d32",
        "watch" | "medium" => "#e0a100",
        "at_risk" | "high" => "#c62828",
        "critical" => "#7b1fa2",
        _ => "#1f5fbf",
    }
}

fn open(out: &mut String, title: &str) {
    let _ = write!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {W} {H}\" role=\"img\" aria-label=\"{t}\"><title>{t}</title>",
        t = esc(title)
    );
}

fn no_data(title: &str, label: &str) -> String {
    let mut s = String::new();
    open(&mut s, title);
    let _ = write!(
        s,
        "<text font-size=\"{FONT}\" x=\"{}\" y=\"{}\" text-anchor=\"middle\" class=\"axis\">{}</text></svg>",
        W / 2.0,
        H / 2.0,
        esc(label)
    );
    s
}

fn y_axis(out: &mut String, max: f64) {
    for i in 0..=4 {
        let v = max * f64::from(i) / 4.0;
        let y = TOP + (H - TOP - BOTTOM) * (1.0 - f64::from(i) / 4.0);
        let _ = write!(
            out,
            "<line x1=\"{LEFT}\" x2=\"{}\" y1=\"{y:.1}\" y2=\"{y:.1}\" stroke=\"#dde2ea\"/>\
             <text font-size=\"{FONT}\" x=\"{}\" y=\"{:.1}\" text-anchor=\"end\" class=\"axis\">{}</text>",
            W - RIGHT,
            LEFT - 4.0,
            y + 5.0,
            if max >= 10.0 {
                format!("{v:.0}")
            } else {
                format!("{v:.1}")
            }
        );
    }
}

/// A nicer maximum for an axis (1, 2, 5 × 10^k).
fn nice_max(v: f64) -> f64 {
    if !v.is_finite() || v <= 0.0 {
        return 1.0;
    }
    let p = 10f64.powf(v.log10().floor());
    for m in [1.0, 2.0, 5.0, 10.0] {
        if v <= m * p {
            return m * p;
        }
    }
    10.0 * p
}

/// Vertical bars: (label, value, colour) each.
pub fn bars(title: &str, no_data_label: &str, items: &[(String, f64, &str)]) -> String {
    if items.is_empty() || items.iter().all(|(_, v, _)| !v.is_finite() || *v <= 0.0) {
        return no_data(title, no_data_label);
    }
    let max = nice_max(items.iter().map(|(_, v, _)| *v).fold(0.0, f64::max));
    let mut s = String::new();
    open(&mut s, title);
    y_axis(&mut s, max);
    let plot_w = W - LEFT - RIGHT;
    let plot_h = H - TOP - BOTTOM;
    let slot = plot_w / items.len() as f64;
    for (i, (label, v, c)) in items.iter().enumerate() {
        let v = if v.is_finite() { v.max(0.0) } else { 0.0 };
        let h = plot_h * v / max;
        let x = LEFT + slot * i as f64 + slot * 0.15;
        let _ = write!(
            s,
            "<rect x=\"{x:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{h:.1}\" fill=\"{c}\"><title>{}: {v}</title></rect>\
             <text font-size=\"{FONT}\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" class=\"axis\">{}</text>",
            TOP + plot_h - h,
            slot * 0.7,
            esc(label),
            x + slot * 0.35,
            H - BOTTOM + 18.0,
            esc(label)
        );
    }
    s.push_str("</svg>");
    s
}

/// One line of a line chart.
pub struct Series<'a> {
    pub name: String,
    pub colour: &'a str,
    pub points: Vec<(String, f64)>,
}

/// Lines over a shared categorical x axis (dates as text, in order);
/// `guides` are horizontal reference lines (value, label).
pub fn lines(
    title: &str,
    no_data_label: &str,
    series: &[Series<'_>],
    fixed_max: Option<f64>,
    guides: &[(f64, &str)],
) -> String {
    let mut xs: Vec<&str> = series
        .iter()
        .flat_map(|s| s.points.iter().map(|(x, _)| x.as_str()))
        .collect();
    xs.sort_unstable();
    xs.dedup();
    if xs.is_empty() {
        return no_data(title, no_data_label);
    }
    let data_max = series
        .iter()
        .flat_map(|s| s.points.iter().map(|(_, v)| *v))
        .filter(|v| v.is_finite())
        .fold(0.0, f64::max);
    let max = fixed_max.unwrap_or_else(|| nice_max(data_max));
    let plot_w = W - LEFT - RIGHT;
    let plot_h = H - TOP - BOTTOM;
    let x_of = |x: &str| -> f64 {
        let i = xs.binary_search(&x).unwrap_or(0);
        if xs.len() == 1 {
            LEFT + plot_w / 2.0
        } else {
            LEFT + plot_w * i as f64 / (xs.len() - 1) as f64
        }
    };
    let y_of = |v: f64| TOP + plot_h * (1.0 - (v.clamp(0.0, max) / max));
    let mut s = String::new();
    open(&mut s, title);
    y_axis(&mut s, max);
    for (v, label) in guides {
        let y = y_of(*v);
        let _ = write!(
            s,
            "<line x1=\"{LEFT}\" x2=\"{}\" y1=\"{y:.1}\" y2=\"{y:.1}\" stroke=\"#999\" stroke-dasharray=\"4 3\"/>\
             <text font-size=\"{FONT}\" x=\"{}\" y=\"{:.1}\" text-anchor=\"end\" class=\"axis\">{}</text>",
            W - RIGHT,
            W - RIGHT - 2.0,
            y - 3.0,
            esc(label)
        );
    }
    // At most five x labels: first, last and evenly between.
    let step = xs.len().div_ceil(4).max(1);
    for (i, x) in xs.iter().enumerate() {
        if i % step == 0 || i == xs.len() - 1 {
            let _ = write!(
                s,
                "<text font-size=\"{FONT}\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" class=\"axis\">{}</text>",
                x_of(x),
                H - BOTTOM + 18.0,
                esc(x)
            );
        }
    }
    for (k, se) in series.iter().enumerate() {
        let pts: Vec<String> = se
            .points
            .iter()
            .filter(|(_, v)| v.is_finite())
            .map(|(x, v)| format!("{:.1},{:.1}", x_of(x), y_of(*v)))
            .collect();
        if pts.len() == 1 {
            let _ = write!(
                s,
                "<circle cx=\"{}\" r=\"3\" fill=\"{}\"/>",
                pts[0].replace(',', "\" cy=\""),
                se.colour
            );
        } else if !pts.is_empty() {
            let _ = write!(
                s,
                "<polyline fill=\"none\" stroke=\"{}\" stroke-width=\"2\" points=\"{}\"><title>{}</title></polyline>",
                se.colour,
                pts.join(" "),
                esc(&se.name)
            );
        }
        // Legend.
        let lx = LEFT + 8.0 + 85.0 * k as f64;
        let _ = write!(
            s,
            "<rect x=\"{lx:.1}\" y=\"{:.1}\" width=\"10\" height=\"10\" fill=\"{}\"/>\
             <text font-size=\"{FONT}\" x=\"{:.1}\" y=\"{:.1}\" class=\"axis\">{}</text>",
            H - 15.0,
            se.colour,
            lx + 14.0,
            H - 5.0,
            esc(&se.name)
        );
    }
    s.push_str("</svg>");
    s
}

/// A small line without text (a table cell's trend): the values, oldest
/// first, scaled to their own range; gaps where a month has no value.
pub fn sparkline(title: &str, values: &[Option<f64>]) -> String {
    let (w, h) = (120.0, 28.0);
    let finite: Vec<f64> = values
        .iter()
        .flatten()
        .copied()
        .filter(|v| v.is_finite())
        .collect();
    let mut out = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {w} {h}\" width=\"{w}\" height=\"{h}\" role=\"img\" aria-label=\"{t}\" class=\"spark\"><title>{t}</title>",
        t = esc(title)
    );
    if finite.is_empty() {
        out.push_str("</svg>");
        return out;
    }
    let lo = finite.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = finite.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let span = if hi > lo { hi - lo } else { 1.0 };
    let n = values.len().max(2) - 1;
    let pts: Vec<String> = values
        .iter()
        .enumerate()
        .filter_map(|(i, v)| {
            v.filter(|x| x.is_finite()).map(|x| {
                let px = 2.0 + (w - 4.0) * i as f64 / n as f64;
                let py = h - 3.0 - (h - 6.0) * (x - lo) / span;
                format!("{px:.1},{py:.1}")
            })
        })
        .collect();
    let _ = write!(
        out,
        "<polyline fill=\"none\" stroke=\"#1f5fbf\" stroke-width=\"2\" points=\"{}\"/>",
        pts.join(" ")
    );
    if let Some(last) = pts.last() {
        let _ = write!(
            out,
            "<circle cx=\"{}\" r=\"2.5\" fill=\"#1f5fbf\"/>",
            last.replace(',', "\" cy=\"")
        );
    }
    out.push_str("</svg>");
    out
}

/// A horizontal progress bar of `value` against `target` (both 0–1).
pub fn progress(title: &str, value: f64, target: f64) -> String {
    let v = if value.is_finite() {
        value.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let t = if target.is_finite() {
        target.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let colour = if v >= t {
        "#2e7d32"
    } else if v >= t * 0.9 {
        "#e0a100"
    } else {
        "#c62828"
    };
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 200 14\" role=\"img\" aria-label=\"{t_}\"><title>{t_}</title>\
         <rect x=\"0\" y=\"2\" width=\"200\" height=\"10\" fill=\"#eef0f4\"/>\
         <rect x=\"0\" y=\"2\" width=\"{:.1}\" height=\"10\" fill=\"{colour}\"/>\
         <line x1=\"{:.1}\" x2=\"{:.1}\" y1=\"0\" y2=\"14\" stroke=\"#1d2433\" stroke-width=\"2\"/></svg>",
        200.0 * v,
        200.0 * t,
        200.0 * t,
        t_ = esc(title)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn balanced(svg: &str) -> bool {
        svg.starts_with("<svg") && svg.ends_with("</svg>") && svg.matches("<svg").count() == 1
    }

    #[test]
    fn bars_escape_labels_and_draw_one_rect_per_item() {
        let s = bars(
            "Health <distribution>",
            "no data",
            &[
                ("0–9".into(), 3.0, "#c62828"),
                ("a&b".into(), 5.0, "#2e7d32"),
            ],
        );
        assert!(balanced(&s));
        assert_eq!(s.matches("<rect").count(), 2);
        assert!(s.contains("Health &lt;distribution&gt;") && s.contains("a&amp;b"));
        assert!(!s.contains("style="));
    }

    #[test]
    fn empty_or_nan_input_gives_a_no_data_chart() {
        assert!(bars("t", "暂无数据", &[]).contains("暂无数据"));
        assert!(bars("t", "none", &[("x".into(), f64::NAN, "#000")]).contains("none"));
        assert!(lines("t", "none", &[], None, &[]).contains("none"));
    }

    #[test]
    fn a_line_of_one_point_is_a_dot_and_guides_are_labelled() {
        let one = Series {
            name: "score".into(),
            colour: "#1f5fbf",
            points: vec![("2024-01-01".into(), 50.0)],
        };
        let s = lines("h", "none", &[one], Some(100.0), &[(40.0, "at risk < 40")]);
        assert!(balanced(&s));
        assert!(s.contains("<circle") && s.contains("at risk &lt; 40"));
        let two = Series {
            name: "high".into(),
            colour: "#c62828",
            points: vec![("2024-01-01".into(), 1.0), ("2024-01-02".into(), 4.0)],
        };
        assert!(lines("a", "none", &[two], None, &[]).contains("<polyline"));
    }

    #[test]
    fn every_text_is_legible_at_the_narrowest_card() {
        let two = Series {
            name: "high".into(),
            colour: "#c62828",
            points: (1..=30)
                .map(|d| (format!("2024-01-{d:02}"), f64::from(d)))
                .collect(),
        };
        let l = lines("a", "none", &[two], None, &[(10.0, "target")]);
        let b = bars("b", "none", &[("x".into(), 3.0, "#000")]);
        for svg in [l, b, no_data("t", "none")] {
            let texts = svg.matches("<text").count();
            assert!(texts > 0);
            assert_eq!(
                svg.matches(&format!("<text font-size=\"{FONT}\"")).count(),
                texts
            );
        }
        // Shown at least 320 px wide: 15 units × 320 / 400 = 12 px.
        const { assert!(FONT * 320.0 / W >= 12.0) };
        // At most five date labels under the axis.
        let l = lines(
            "a",
            "none",
            &[Series {
                name: "s".into(),
                colour: "#000",
                points: (1..=30).map(|d| (format!("2024-01-{d:02}"), 1.0)).collect(),
            }],
            None,
            &[],
        );
        assert!(l.matches("2024-01-").count() <= 5, "{l}");
    }

    #[test]
    fn progress_is_green_at_target_and_red_far_below() {
        assert!(progress("p", 0.95, 0.9).contains("#2e7d32"));
        assert!(progress("p", 0.5, 0.9).contains("#c62828"));
        assert!(progress("p", f64::NAN, 0.9).contains("width=\"0.0\""));
    }
}
