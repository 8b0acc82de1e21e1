//! The headers in which a client lists what it takes, each item with a
//! weight: `Accept` (media types, for `/batch`'s choice between the scored
//! CSV and a page) and `Accept-Language` ([`super::i18n`]). Parsed here,
//! once, the usual way (RFC 9110 §12.4.2 and §12.5.1): `q` from 0 to 1,
//! 1 when not given, 0 meaning "not this". Not for `Accept-Encoding`, which
//! the gzip layer reads.

/// At most this many items of a header are read: a real client sends a
/// handful, and a header is no place to make the server loop.
const MAX_ITEMS: usize = 32;

/// One item of a weighted list: `text/csv` in `text/csv;q=0.5`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Weighted<'a> {
    /// The item without its parameters, trimmed.
    pub item: &'a str,
    pub q: f32,
}

/// The items of a weighted list such as `text/html;q=0.5, text/csv` in
/// order. An item whose `q` is not a number from 0 to 1 is left out, as
/// are empty items; parameters other than `q` are ignored.
pub fn weighted(header: &str) -> impl Iterator<Item = Weighted<'_>> {
    header.split(',').take(MAX_ITEMS).filter_map(|element| {
        let mut parts = element.split(';');
        let item = parts.next().unwrap_or("").trim();
        if item.is_empty() {
            return None;
        }
        let q = parts.find_map(|p| {
            let (name, value) = p.split_once('=')?;
            name.trim()
                .eq_ignore_ascii_case("q")
                .then(|| value.trim().parse::<f32>().ok())
        });
        match q {
            None => Some(Weighted { item, q: 1.0 }),
            Some(Some(q)) if (0.0..=1.0).contains(&q) => Some(Weighted { item, q }),
            Some(_) => None,
        }
    })
}

/// Which of `offers` (media types such as `text/csv`, in the server's order
/// of preference) an `Accept` header prefers.
///
/// Each offer takes the `q` of the most specific range that matches it
/// (`text/csv`, then `text/*`, then `*/*`); the highest `q` wins, and among
/// equal `q` the offer the client named most specifically, then the
/// server's order. `None` when the header takes none of them (every match
/// is `q=0`, or nothing matches); no header (or an empty one) takes any
/// media type, so the first offer.
pub fn media_type<'a>(accept: Option<&str>, offers: &[&'a str]) -> Option<&'a str> {
    let accept = accept.map(str::trim).filter(|a| !a.is_empty());
    let Some(accept) = accept else {
        return offers.first().copied();
    };
    // (q, specificity, offer); a later offer must do strictly better.
    let mut best: Option<(f32, u8, &'a str)> = None;
    for &offer in offers {
        let (kind, _) = offer.split_once('/').unwrap_or((offer, ""));
        // The most specific range matching this offer, and its weight.
        let mut matched: Option<(u8, f32)> = None;
        for w in weighted(accept) {
            let specificity = if w.item.eq_ignore_ascii_case(offer) {
                3
            } else if w
                .item
                .strip_suffix("/*")
                .is_some_and(|k| k.eq_ignore_ascii_case(kind))
            {
                2
            } else if w.item == "*/*" {
                1
            } else {
                continue;
            };
            if matched.is_none_or(|(s, _)| specificity > s) {
                matched = Some((specificity, w.q));
            }
        }
        let Some((specificity, q)) = matched else {
            continue;
        };
        if q <= 0.0 {
            continue;
        }
        if best.is_none_or(|(bq, bs, _)| q > bq || (q == bq && specificity > bs)) {
            best = Some((q, specificity, offer));
        }
    }
    best.map(|(.., offer)| offer)
}

#[cfg(test)]
mod tests {
    use super::*;

    const OFFERS: [&str; 2] = ["text/html", "text/csv"];

    fn choose(accept: &str) -> Option<&'static str> {
        media_type(Some(accept), &OFFERS)
    }

    #[test]
    fn items_come_with_their_weights() {
        let items: Vec<_> = weighted("text/html;q=0.5, text/csv ;level=1, */*;Q=0 ,, x;q=2, y;q=z")
            .map(|w| (w.item, w.q))
            .collect();
        assert_eq!(items, [("text/html", 0.5), ("text/csv", 1.0), ("*/*", 0.0)]);
    }

    #[test]
    fn the_highest_weight_wins() {
        assert_eq!(choose("text/csv;q=0, text/html"), Some("text/html"));
        assert_eq!(choose("text/html;q=0.5, text/csv"), Some("text/csv"));
        assert_eq!(choose("text/csv"), Some("text/csv"));
        assert_eq!(choose("text/html"), Some("text/html"));
        assert_eq!(choose("TEXT/CSV"), Some("text/csv"));
        assert_eq!(choose("text/csv; charset=utf-8"), Some("text/csv"));
    }

    #[test]
    fn the_most_specific_range_gives_an_offer_its_weight() {
        // What browsers send: the page.
        assert_eq!(
            choose("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"),
            Some("text/html")
        );
        assert_eq!(choose("*/*"), Some("text/html"));
        assert_eq!(choose("text/*"), Some("text/html"));
        // Named beats a wildcard of the same weight.
        assert_eq!(choose("text/csv, */*"), Some("text/csv"));
        assert_eq!(choose("*/*, text/csv"), Some("text/csv"));
        assert_eq!(choose("text/*, text/csv"), Some("text/csv"));
        // A specific q=0 is not undone by a wildcard.
        assert_eq!(choose("text/html;q=0, */*"), Some("text/csv"));
        assert_eq!(choose("text/*;q=0.1, text/csv;q=0.2"), Some("text/csv"));
        // Equal and equally specific: the server's order.
        assert_eq!(choose("text/csv, text/html"), Some("text/html"));
    }

    #[test]
    fn nothing_acceptable_is_none_and_no_header_is_the_first_offer() {
        assert_eq!(choose("application/json"), None);
        assert_eq!(choose("text/csv;q=0, text/html;q=0"), None);
        assert_eq!(choose("*/*;q=0"), None);
        assert_eq!(choose(""), Some("text/html"));
        assert_eq!(media_type(None, &OFFERS), Some("text/html"));
    }
}
