//! Plots drawn on the server as inline SVG: no script, nothing fetched.
//! Each is an image with a title and a description for screen readers;
//! the page also shows its numbers as a table.

use std::fmt::Write;

const W: f64 = 640.0;
const H: f64 = 240.0;
const LEFT: f64 = 48.0;
const RIGHT: f64 = 16.0;
const TOP: f64 = 16.0;
const BOTTOM: f64 = 40.0;

pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

fn open(id: &str, title: &str, desc: &str) -> String {
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"plot\" viewBox=\"0 0 {W} {H}\" role=\"img\" aria-labelledby=\"{id}-t {id}-d\">\
         <title id=\"{id}-t\">{}</title><desc id=\"{id}-d\">{}</desc>",
        escape(title),
        escape(desc)
    )
}

fn axes(out: &mut String, y_max: i64) {
    let (x0, y0, x1, y1) = (LEFT, H - BOTTOM, W - RIGHT, TOP);
    let _ = write!(
        out,
        "<line class=\"axis\" x1=\"{x0}\" y1=\"{y0}\" x2=\"{x1}\" y2=\"{y0}\"/>\
         <line class=\"axis\" x1=\"{x0}\" y1=\"{y0}\" x2=\"{x0}\" y2=\"{y1}\"/>\
         <text class=\"tick\" x=\"{}\" y=\"{}\" text-anchor=\"end\">0</text>\
         <text class=\"tick\" x=\"{}\" y=\"{}\" text-anchor=\"end\">{y_max}</text>",
        x0 - 6.0,
        y0 + 4.0,
        x0 - 6.0,
        y1 + 8.0
    );
}

fn day_label(day: i64) -> String {
    chrono::DateTime::from_timestamp(day * 86_400, 0)
        .map(|d| d.format("%Y-%m-%d").to_string())
        .unwrap_or_default()
}

/// Learners who have completed, cumulated over days: a step line.
/// `per_day` is (days since the epoch, completions that day), in order.
pub fn completion_over_time(id: &str, title: &str, desc: &str, per_day: &[(i64, i64)]) -> String {
    let mut out = open(id, title, desc);
    let total: i64 = per_day.iter().map(|(_, n)| n).sum();
    axes(&mut out, total);
    if let (Some(first), Some(last)) = (per_day.first(), per_day.last()) {
        let (d0, d1) = (first.0, last.0.max(first.0 + 1));
        let x = |d: i64| LEFT + (d - d0) as f64 / (d1 - d0) as f64 * (W - LEFT - RIGHT);
        let y = |n: i64| H - BOTTOM - n as f64 / total.max(1) as f64 * (H - TOP - BOTTOM);
        let mut points = format!("{:.1},{:.1}", x(d0), y(0));
        let mut sum = 0;
        for (d, n) in per_day {
            let _ = write!(points, " {:.1},{:.1}", x(*d), y(sum));
            sum += n;
            let _ = write!(points, " {:.1},{:.1}", x(*d), y(sum));
        }
        let _ = write!(points, " {:.1},{:.1}", x(d1), y(sum));
        let _ = write!(
            out,
            "<polyline class=\"line\" fill=\"none\" points=\"{points}\"/>\
             <text class=\"tick\" x=\"{LEFT}\" y=\"{}\" text-anchor=\"start\">{}</text>\
             <text class=\"tick\" x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>",
            H - BOTTOM + 18.0,
            day_label(d0),
            W - RIGHT,
            H - BOTTOM + 18.0,
            day_label(last.0)
        );
    }
    out.push_str("</svg>");
    out
}

/// Ten bands of best scores, 0–9 % to 90–100 %, as the histogram counts
/// them: a score of exactly 100 % falls in the last band.
pub fn score_bands(scores: &[(f64, i64)]) -> [i64; 10] {
    let mut bands = [0i64; 10];
    for (s, n) in scores {
        let i = ((s.clamp(0.0, 1.0) * 10.0 + 1e-9).floor() as usize).min(9);
        bands[i] += n;
    }
    bands
}

/// A bar per band of [`score_bands`].
pub fn score_histogram(id: &str, title: &str, desc: &str, bands: &[i64; 10]) -> String {
    let mut out = open(id, title, desc);
    let max = bands.iter().copied().max().unwrap_or(0);
    axes(&mut out, max);
    let slot = (W - LEFT - RIGHT) / 10.0;
    for (i, n) in bands.iter().enumerate() {
        let h = *n as f64 / max.max(1) as f64 * (H - TOP - BOTTOM);
        let x = LEFT + i as f64 * slot + 4.0;
        let _ = write!(
            out,
            "<rect class=\"bar\" x=\"{x:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{h:.1}\"/>\
             <text class=\"tick\" x=\"{:.1}\" y=\"{}\" text-anchor=\"middle\">{}</text>",
            H - BOTTOM - h,
            slot - 8.0,
            x + (slot - 8.0) / 2.0,
            H - BOTTOM + 18.0,
            i * 10
        );
        if *n > 0 {
            let _ = write!(
                out,
                "<text class=\"value\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{n}</text>",
                x + (slot - 8.0) / 2.0,
                (H - BOTTOM - h - 4.0).max(TOP + 10.0)
            );
        }
    }
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_fall_in_their_band() {
        let b = score_bands(&[(0.0, 1), (0.75, 2), (0.7, 1), (1.0, 3), (0.999, 1)]);
        assert_eq!(b, [1, 0, 0, 0, 0, 0, 0, 3, 0, 4]);
    }

    #[test]
    fn plots_are_labelled_images_with_escaped_text() {
        let s = completion_over_time("c", "Done <&>", "desc", &[(20000, 2), (20003, 1)]);
        assert!(s.starts_with("<svg") && s.ends_with("</svg>"));
        assert!(s.contains("role=\"img\""));
        assert!(s.contains("Done &lt;&amp;&gt;"));
        assert!(s.contains("<polyline"));
        let h = score_histogram("s", "Scores", "d", &[0, 0, 0, 0, 0, 0, 0, 2, 0, 1]);
        assert_eq!(h.matches("<rect").count(), 10);
        assert!(h.contains(">2</text>"));
    }
}
