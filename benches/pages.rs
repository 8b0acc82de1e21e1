//! Micro-benchmarks of the one HTML page made per request, the result page
//! of `POST /predict`: `cargo bench --bench pages`.
//!
//! - `result_page/answer`: the answer laid out for people (SVG charts,
//!   percentages, the values entered), as `view::answer` does per request.
//! - `result_page/written`: the page as served with the built-in templates
//!   (`serve::page_writer`).
//! - `result_page/minijinja`: the same bytes through the template engine, as
//!   served when `--templates` replaces one of the page's templates.

mod common;

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use lifeboat::builtin;
use lifeboat::schema::Lang;
use lifeboat::serve::page_writer::FormPage;
use lifeboat::serve::templates::{Sources, Templates};
use lifeboat::serve::ui::{Page, form_page_context};
use lifeboat::serve::view::{self, Views};

use common::PASSENGER;

fn result_page(c: &mut Criterion) {
    let loaded = builtin::titanic().expect("the built-in model loads");
    let views = Views::new(&loaded, false);
    let templates = Templates::load(Sources::default()).expect("the built-in templates compile");
    let lang = Lang::En;
    let v = views.get(lang);
    let schema = &loaded.model.schema;
    let row = schema.parse_strings(PASSENGER).expect("a valid passenger");
    let (prediction, explanation) = loaded.model.explain(&row);
    let answer = view::answer(
        &loaded,
        &v.bar_labels,
        &row,
        &prediction,
        &explanation,
        lang,
    );
    let values = view::kept_values(v.form_fields(), PASSENGER);
    let page = Page {
        lang,
        explicit: false,
    };

    let mut group = c.benchmark_group("result_page");
    group.bench_function("answer", |b| {
        b.iter(|| {
            view::answer(
                &loaded,
                &v.bar_labels,
                &row,
                &prediction,
                &explanation,
                black_box(lang),
            )
        })
    });
    group.bench_function("written", |b| {
        b.iter(|| {
            v.writer.write(&FormPage {
                explicit: black_box(false),
                values: &values,
                outcome: Ok(&answer),
            })
        })
    });
    group.bench_function("minijinja", |b| {
        b.iter(|| {
            let (name, ctx) = form_page_context(v, black_box(page), &values, Ok(&answer));
            templates.render(name, ctx).expect("the page renders")
        })
    });
    group.finish();
}

criterion_group!(benches, result_page);
criterion_main!(benches);
