//! Numbers written for pages: fixed decimals (`83.2 %`, `+1.72`) and chart
//! coordinates (`477.9`). A result page writes about sixty of them, and
//! `format!` spends hundreds of instructions on each float (an exact
//! decimal expansion, a `Formatter`, a new `String`); these write the same
//! text with integer arithmetic straight into the page.

/// Writes `v` with `decimals` digits after `point`: exactly what
/// `format!("{v:.decimals$}")` writes (then `.` replaced by `point`).
///
/// The fast path scales `v` by `10^decimals` in floating point, which can be
/// off by half a unit in the last place; that only matters when the scaled
/// value is within a hair of a half (where the two neighbours are equally
/// close), so then, and for values too large or not finite, `format!` decides.
pub fn push_fixed(out: &mut String, v: f64, decimals: usize, point: char) {
    const SCALE: [f64; 5] = [1.0, 10.0, 100.0, 1_000.0, 10_000.0];
    const POW10: [u64; 5] = [1, 10, 100, 1_000, 10_000];
    let fast = decimals < SCALE.len() && v.is_finite() && v.abs() < 1e9;
    let scaled = if fast { v.abs() * SCALE[decimals] } else { 0.0 };
    // Truncating through an integer: exact below 2^53, and no libm call.
    let whole = scaled as u64;
    let fraction = scaled - whole as f64;
    // Below 1e13 an ulp is under 0.002: 0.01 away from a half, the exact
    // product rounds the same way as `scaled`.
    if !fast || (fraction - 0.5).abs() < 0.01 {
        let text = format!("{v:.decimals$}");
        match point {
            '.' => out.push_str(&text),
            _ => out.push_str(&text.replace('.', point.encode_utf8(&mut [0; 4]))),
        }
        return;
    }
    let n = whole + u64::from(fraction > 0.5);
    // `format!` keeps the sign of anything negative, -0.0 and -0.001 at
    // two decimals included.
    if v.is_sign_negative() {
        out.push('-');
    }
    let mut digits = itoa::Buffer::new();
    out.push_str(digits.format(n / POW10[decimals]));
    if decimals > 0 {
        out.push(point);
        let part = digits.format(n % POW10[decimals]);
        for _ in part.len()..decimals {
            out.push('0');
        }
        out.push_str(part);
    }
}

/// Writes a coordinate rounded to tenths, with at most one decimal (`12`,
/// `12.5`, `-3.1`), halves away from zero.
pub fn push_tenths(out: &mut String, v: f64) {
    let t = round_to_int(v * 10.0);
    if t < 0 {
        out.push('-');
    }
    let t = t.unsigned_abs();
    out.push_str(itoa::Buffer::new().format(t / 10));
    let tenth = (t % 10) as u8;
    if tenth != 0 {
        out.push('.');
        out.push(char::from(b'0' + tenth));
    }
}

/// [`push_tenths`], quicker for the whole numbers that most coordinates
/// are (rows, axes): written as they are, without rounding.
pub fn push_coordinate(out: &mut String, v: f64) {
    let whole = v as u32;
    if f64::from(whole) == v {
        out.push_str(itoa::Buffer::new().format(whole));
    } else {
        push_tenths(out, v);
    }
}

/// `v` rounded to tenths, halves away from zero.
pub fn round1(v: f64) -> f64 {
    round_to_int(v * 10.0) as f64 / 10.0
}

/// `v.round() as i64` (halves away from zero) without the call to libm's
/// `round` that x86-64's baseline instruction set needs: truncating and
/// subtracting are exact, so the fraction decides exactly. A chart has
/// about fifty coordinates; the call was a fifth of laying out an answer.
pub fn round_to_int(v: f64) -> i64 {
    let whole = v as i64;
    let fraction = v - whole as f64;
    if fraction >= 0.5 {
        whole + 1
    } else if fraction <= -0.5 {
        whole - 1
    } else {
        whole
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixed(v: f64, decimals: usize) -> String {
        let mut s = String::new();
        push_fixed(&mut s, v, decimals, '.');
        s
    }

    /// Values near every kind of edge: ties that are exact in binary (0.125),
    /// ties that are not (2.675 is 2.67499…), carries (9.995), signs,
    /// tiny and large magnitudes, and a spread of ordinary numbers.
    fn awkward_values() -> Vec<f64> {
        let mut values = vec![
            0.0,
            -0.0,
            0.5,
            1.5,
            2.5,
            0.125,
            0.375,
            2.675,
            1.005,
            9.995,
            99.95,
            0.05,
            0.15,
            0.25,
            0.35,
            0.45,
            -0.001,
            -0.004,
            -0.005,
            -1.005,
            57.75,
            42.25,
            1e-300,
            5e-324,
            999_999_999.995,
            1e9,
            1e9 + 0.5,
            1e20,
            -1e20,
            f64::MAX,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NAN,
            0.1 + 0.2,
            1.0 / 3.0,
            2.0 / 3.0,
        ];
        for i in 0..20_000u32 {
            // Every multiple of 1/8000 up to 2.5 (halves at every precision)...
            values.push(f64::from(i) / 8000.0);
            values.push(-f64::from(i) / 8000.0);
            // ...and numbers with decimals that binary cannot hold.
            values.push(f64::from(i) * 0.0137);
            values.push(f64::from(i) / 1000.0 + 0.0005);
        }
        // Probabilities as a model gives them, times 100 as a percentage is.
        let mut p = 1e-6_f64;
        while p < 1.0 {
            values.push(p);
            values.push(p * 100.0);
            values.push(1.0 - p);
            p *= 1.013;
        }
        values
    }

    #[test]
    fn fixed_matches_format() {
        for v in awkward_values() {
            for decimals in 0..=5 {
                assert_eq!(
                    fixed(v, decimals),
                    format!("{v:.decimals$}"),
                    "{v:e} {decimals}"
                );
            }
        }
    }

    #[test]
    fn fixed_writes_the_decimal_point_asked_for() {
        let mut s = String::new();
        push_fixed(&mut s, 83.16, 1, ',');
        s.push(' ');
        push_fixed(&mut s, 0.125, 2, ','); // a tie: `format!` decides
        s.push(' ');
        push_fixed(&mut s, 7.0, 0, ',');
        assert_eq!(s, "83,2 0,12 7");
    }

    #[test]
    fn rounding_matches_f64_round() {
        let mut values = vec![
            0.0,
            -0.0,
            0.5,
            -0.5,
            1.5,
            -1.5,
            2.5,
            0.49999999999999994,
            -0.49999999999999994,
            4503599627370495.5,
            -4503599627370495.5,
            1e15 + 0.5,
            123.45,
            -3.06,
        ];
        // A spread of magnitudes and fractions, halves included.
        let mut x = 0.013_f64;
        while x < 1e12 {
            for f in [0.0, 0.25, 0.5, 0.75, 0.4999999, 0.5000001] {
                values.push(x.floor() + f);
                values.push(-(x.floor() + f));
            }
            values.push(x);
            values.push(-x);
            x *= 1.37;
        }
        for v in values {
            assert_eq!(round_to_int(v), v.round() as i64, "{v}");
            assert_eq!(round1(v / 10.0), (v / 10.0 * 10.0).round() / 10.0, "{v}");
        }
    }

    #[test]
    fn coordinates_in_tenths() {
        let mut s = String::new();
        for v in [0.0, 12.0, 12.54, -3.06, 0.04, -0.04, 477.95, 1e6, -250.0] {
            push_tenths(&mut s, v);
            s.push(' ');
        }
        assert_eq!(s, "0 12 12.5 -3.1 0 0 478 1000000 -250 ");
    }

    #[test]
    fn coordinates_are_tenths() {
        let mut x = 0.0001_f64;
        while x < 1e10 {
            for v in [
                x,
                -x,
                x.floor(),
                -x.floor(),
                x.floor() + 0.5,
                x.floor() + 0.05,
            ] {
                let (mut quick, mut tenths) = (String::new(), String::new());
                push_coordinate(&mut quick, v);
                push_tenths(&mut tenths, v);
                assert_eq!(quick, tenths, "{v}");
            }
            x *= 1.09;
        }
    }

    #[test]
    fn tenths_match_the_rounded_value() {
        let mut x = 0.001_f64;
        while x < 1e7 {
            for v in [x, -x, x.floor() + 0.05, x.floor() + 0.95] {
                let mut s = String::new();
                push_tenths(&mut s, v);
                let shown: f64 = s.parse().unwrap();
                assert_eq!(shown, round1(v), "{v} gave {s}");
                assert!(!s.ends_with(".0") && !s.contains('e'), "{s}");
            }
            x *= 1.07;
        }
    }
}
