//! The pages against a real server: form, result, model card, CSV files,
//! docs (whose curl examples are run as printed), static files, languages,
//! template overrides and `--dev`.

mod common;

use common::{CSV, parts, start, start_with};
use lifeboat::serve::ServeConfig;

const FORM: &str = "Pclass=1&Sex=female&Age=29&SibSp=0&Parch=0&Fare=80&Embarked=S";

async fn page(s: &common::Server, path: &str, lang: Option<&str>) -> (u16, String) {
    let mut req = s.client.get(s.url(path));
    if let Some(l) = lang {
        req = req.header("accept-language", l);
    }
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    (status, r.text().await.unwrap())
}

#[tokio::test]
async fn the_form_is_generated_from_the_schema() {
    let s = start().await;
    let (status, html) = page(&s, "/", None).await;
    assert_eq!(status, 200);
    assert!(html.contains("<html lang=\"en\">"));
    // Every input and select has a <label for> pointing at it.
    let controls = html.matches("<select id=\"").count()
        + html.matches("<input type=\"number\" id=\"").count();
    assert_eq!(controls, 7);
    for id in [
        "f0-Pclass",
        "f1-Sex",
        "f2-Age",
        "f3-SibSp",
        "f4-Parch",
        "f5-Fare",
        "f6-Embarked",
    ] {
        assert!(html.contains(&format!("<label for=\"{id}\">")), "{id}");
        assert!(html.contains(&format!(" id=\"{id}\"")), "{id}");
    }
    // Options carry the values the model expects and show the labels people read.
    assert!(
        html.contains("<option value=\"1\">1st class</option>"),
        "{html}"
    );
    assert!(html.contains("<option value=\"3\" selected>3rd class</option>"));
    assert!(html.contains("min=\"0\" max=\"100\" step=\"0.5\""));
    assert!(html.contains("In years; fractions for infants."));
    // No script, no inline style, no external URL.
    for bad in ["<script", "style=", "http://", "https://"] {
        assert!(!html.contains(bad), "{bad} in the page");
    }
}

#[tokio::test]
async fn the_form_in_spanish() {
    let s = start().await;
    for (path, lang) in [("/?lang=es", None), ("/", Some("es-MX,es;q=0.9,en;q=0.5"))] {
        let (_, html) = page(&s, path, lang).await;
        assert!(html.contains("<html lang=\"es\">"), "{path}");
        assert!(html.contains("Clase del billete"));
        assert!(html.contains("<option value=\"1\">Primera clase</option>"));
        assert!(html.contains(">Predecir</button>"));
    }
    // ?lang= wins over Accept-Language and is kept in links and the form action.
    let (_, html) = page(&s, "/?lang=en", Some("es")).await;
    assert!(html.contains("<html lang=\"en\">"));
    assert!(html.contains("action=\"/predict?lang=en\""));
}

#[tokio::test]
async fn submitting_the_form_shows_the_result() {
    let s = start().await;
    for path in ["/predict", "/result"] {
        let (status, ct, html) = parts(
            s.post(path, "application/x-www-form-urlencoded", FORM)
                .await,
        )
        .await;
        assert_eq!(status, 200, "{path}");
        assert!(ct.starts_with("text/html"));
        assert!(
            html.contains("<h1 class=\"verdict\">Passenger survives</h1>"),
            "{html}"
        );
        assert!(html.contains(" %</span> probability</p>"));
        assert!(html.contains("<svg class=\"chart\""));
        assert!(html.contains("<th scope=\"row\">Ticket class</th><td>1st class</td>"));
        // The form again, pre-filled with what was sent.
        assert!(html.contains("<option value=\"female\" selected>Female</option>"));
        assert!(html.contains("value=\"80\""));
    }
    let (status, _, html) = parts(
        s.post(
            "/predict?lang=es",
            "application/x-www-form-urlencoded",
            FORM,
        )
        .await,
    )
    .await;
    assert_eq!(status, 200);
    assert!(html.contains("El pasajero sobrevive"));
    assert!(html.contains(" %</span> probabilidad</p>"));
    assert!(html.contains(","), "decimal comma");
}

#[tokio::test]
async fn invalid_form_values_come_back_with_messages_and_422() {
    let s = start().await;
    let body = "Pclass=1&Sex=&Age=abc&SibSp=0&Parch=0&Fare=80&Embarked=S";
    let (status, _, html) = parts(
        s.post("/predict", "application/x-www-form-urlencoded", body)
            .await,
    )
    .await;
    assert_eq!(status, 422);
    assert!(html.contains("Some values need a change"));
    assert!(html.contains("<p class=\"error\" id=\"f2-Age-err\">&quot;abc&quot; is not a number; expected a number from 0 to 100</p>"), "{html}");
    assert!(html.contains(
        "<p class=\"error\" id=\"f1-Sex-err\">is required; expected one of: male, female</p>"
    ));
    assert!(html.contains("value=\"abc\""), "values are kept");
    assert!(html.contains("aria-invalid=\"true\""));
    let (status, _, html) = parts(
        s.post(
            "/predict?lang=es",
            "application/x-www-form-urlencoded",
            body,
        )
        .await,
    )
    .await;
    assert_eq!(status, 422);
    assert!(html.contains("&quot;abc&quot; no es un número; se espera un número de 0 a 100"));
    // Markup in a value is escaped, never run.
    let evil = "Pclass=1&Sex=male&Age=%3Cscript%3Ealert(1)%3C%2Fscript%3E&SibSp=0&Parch=0";
    let (status, _, html) = parts(
        s.post("/predict", "application/x-www-form-urlencoded", evil)
            .await,
    )
    .await;
    assert_eq!(status, 422);
    assert!(!html.contains("<script>"));
    // Not a form: 415, as a page.
    let (status, ct, html) = parts(s.post("/predict", "application/json", "{}").await).await;
    assert_eq!(status, 415);
    assert!(ct.starts_with("text/html"));
    assert!(html.contains("415"));
}

#[tokio::test]
async fn error_pages_are_pages() {
    let s = start().await;
    let (status, html) = page(&s, "/no/such/page", None).await;
    assert_eq!(status, 404);
    assert!(html.contains("<h1>Page not found</h1>"), "{html}");
    let (status, html) = page(&s, "/no/such/page?lang=es", None).await;
    assert_eq!(status, 404);
    assert!(html.contains("No hay ninguna página en esta dirección."));
    let r = s.client.delete(s.url("/")).send().await.unwrap();
    assert_eq!(r.status(), 405);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("<h1>Method not allowed</h1>")
    );
    let (status, _) = page(&s, "/static/nope.css", None).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn a_path_that_does_not_decode_is_a_page_naming_the_bad_escape() {
    let s = start().await;
    for (path, bad) in [
        ("/static/%ff", "%ff"),
        ("/static/css/a%C3%A9%e2%80", "%e2%80"),
        ("/static/%41%c3%28", "%c3"),
    ] {
        let (status, html) = page(&s, path, None).await;
        assert_eq!(status, 400, "{path}");
        assert!(html.contains("<h1>Bad request</h1>"), "{path}: {html}");
        assert!(
            html.contains(&format!(
                "the path has {bad}, which does not decode to UTF-8 text"
            )),
            "{path}: {html}"
        );
    }
    let (status, html) = page(&s, "/static/%ff", Some("es")).await;
    assert_eq!(status, 400);
    assert!(html.contains("<h1>Petición incorrecta</h1>"), "{html}");
}

#[tokio::test]
async fn the_model_card() {
    let s = start().await;
    let (status, html) = page(&s, "/model", None).await;
    assert_eq!(status, 200);
    for want in [
        "Cross-validation",
        "Confusion matrix",
        "Importance",
        // Whatever learner the built-in model has (it may change).
        s.state.model().report.learner.as_str(),
        "<svg class=\"chart\"",
        "<code>Pclass</code>",
        s.state.loaded.version(),
    ] {
        assert!(html.contains(want), "{want}");
    }
    let (_, html) = page(&s, "/model?lang=es", None).await;
    assert!(html.contains("Validación cruzada") && html.contains("Matriz de confusión"));
}

#[tokio::test]
async fn csv_files_are_scored() {
    let s = start().await;
    let (status, html) = page(&s, "/batch", None).await;
    assert_eq!(status, 200);
    assert!(html.contains("<label for=\"file\">"));
    assert!(html.contains("enctype=\"multipart/form-data\""));

    // From a browser: a page with a summary, the rejected rows and a download link.
    let csv = format!("{CSV}2,robot,30,0,0,10,S\n");
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(csv.clone().into_bytes()).file_name("passengers.csv"),
    );
    let r = s
        .client
        .post(s.url("/batch"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let html = r.text().await.unwrap();
    assert!(html.contains("3 rows: 2 scored, 1 rejected."), "{html}");
    assert!(html.contains("download=\"passengers-scored.csv\""));
    assert!(html.contains("href=\"data:text/csv;charset=utf-8;base64,"));
    assert!(html.contains("Sex: &quot;robot&quot; is not allowed"));

    // From a program: the CSV itself.
    let r = s
        .client
        .post(s.url("/batch?explain=true"))
        .header("content-type", "text/csv")
        .header("accept", "text/csv")
        .body(csv)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["x-rejected-rows"], "1");
    assert_eq!(
        r.headers()["content-disposition"],
        "attachment; filename=\"data-scored.csv\""
    );
    let out = r.text().await.unwrap();
    let mut lines = out.lines();
    assert_eq!(
        lines.next().unwrap(),
        "Pclass,Sex,Age,SibSp,Parch,Fare,Embarked,prediction,label,probability_0,probability_1,base,contribution_Pclass,contribution_Sex,contribution_Age,contribution_SibSp,contribution_Parch,contribution_Fare,contribution_Embarked"
    );
    assert!(
        lines
            .next()
            .unwrap()
            .starts_with("3,male,22,1,0,7.25,S,0,Passenger dies,")
    );
    assert!(
        lines
            .next()
            .unwrap()
            .starts_with("1,female,38,1,0,71.2833,C,1,Passenger survives,")
    );
    assert_eq!(lines.next(), None);

    // A file the model cannot read: 422 with the reason.
    let (status, _, html) = parts(s.post("/batch", "text/csv", "a,b\n1,2\n").await).await;
    assert_eq!(status, 422);
    assert!(html.contains("the required columns"), "{html}");
    // A quote that never closes would swallow the rows after it: 422, with its line.
    let unclosed = format!("{CSV}2,female,30,0,0,10,\"S\n3,male,22,1,0,7.25,S\n");
    let (status, _, html) = parts(s.post("/batch", "text/csv", unclosed).await).await;
    assert_eq!(status, 422);
    let line = CSV.lines().count() + 1;
    assert!(
        html.contains(&format!(
            "line {line}: a quote (&quot;) opens a cell that never closes"
        )),
        "{html}"
    );
    // No file chosen.
    let form = reqwest::multipart::Form::new().text("explain", "true");
    let r = s
        .client
        .post(s.url("/batch"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    // Neither a form nor CSV.
    let (status, _, _) = parts(s.post("/batch", "application/json", "{}").await).await;
    assert_eq!(status, 415);
}

#[tokio::test]
async fn uploads_over_the_limit_are_413() {
    let s = start_with(ServeConfig {
        upload_limit: 100,
        ..Default::default()
    })
    .await;
    let (status, _, html) = parts(s.post("/batch", "text/csv", CSV.repeat(5)).await).await;
    assert_eq!(status, 413);
    assert!(html.contains("larger than 100 bytes"));
}

/// Every curl command on /docs, run as printed (with the host the page was
/// fetched from), answers 2xx.
#[tokio::test]
async fn the_curl_examples_on_docs_work_as_printed() {
    let s = start().await;
    let (status, html) = page(&s, "/docs", None).await;
    assert_eq!(status, 200);
    let mut commands = Vec::new();
    for chunk in html.split("<code class=\"curl\">").skip(1) {
        let cmd = chunk.split("</code>").next().unwrap();
        commands.push(
            cmd.replace("&#x27;", "'")
                .replace("&quot;", "\"")
                .replace("&lt;", "<")
                .replace("&gt;", ">")
                .replace("&#x2f;", "/")
                .replace("&amp;", "&"),
        );
    }
    assert!(commands.len() >= 30, "{} commands", commands.len());
    for cmd in commands {
        assert!(cmd.contains(&s.base), "{cmd}");
        let full = format!("{cmd} -o /dev/null -w '%{{http_code}}' --fail-with-body");
        let out = tokio::task::spawn_blocking(move || {
            std::process::Command::new("sh")
                .arg("-c")
                .arg(&full)
                .output()
                .unwrap()
        })
        .await
        .unwrap();
        let code = String::from_utf8_lossy(&out.stdout).to_string();
        assert!(
            code.starts_with('2'),
            "{cmd} -> {code} {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[tokio::test]
async fn static_files_are_embedded() {
    let s = start().await;
    let r = s.get("/static/css/style.css").await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "text/css; charset=utf-8");
    assert!(
        r.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("max-age")
    );
    let r = s.get("/favicon.ico").await;
    assert_eq!(r.headers()["content-type"], "image/svg+xml");
    assert_eq!(s.get("/static/../Cargo.toml").await.status(), 404);
}

#[tokio::test]
async fn templates_and_static_files_can_be_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let t = dir.path().join("templates");
    let st = dir.path().join("static/css");
    std::fs::create_dir_all(&t).unwrap();
    std::fs::create_dir_all(&st).unwrap();
    std::fs::write(
        t.join("index.html"),
        "{% extends \"base.html\" %}{% block content %}<p id=mine>{{ t.submit }}: {{ fields|length }}</p>{% endblock %}",
    )
    .unwrap();
    std::fs::write(st.join("style.css"), "body { color: red }").unwrap();
    let s = start_with(ServeConfig {
        templates: Some(t.clone()),
        statics: Some(dir.path().join("static")),
        ..Default::default()
    })
    .await;
    let (_, html) = page(&s, "/", None).await;
    assert!(html.contains("<p id=mine>Predict: 7</p>"), "{html}");
    assert_eq!(
        s.get("/static/css/style.css").await.text().await.unwrap(),
        "body { color: red }"
    );
    // Not in --dev: a change on disk is not seen until restart.
    std::fs::write(t.join("index.html"), "changed").unwrap();
    let (_, html) = page(&s, "/", None).await;
    assert!(html.contains("<p id=mine>"));
}

/// Result and error pages are written by Rust while the built-in templates
/// are in use; replacing any one of their four templates must put that
/// replacement on them.
#[tokio::test]
async fn a_replaced_page_template_shows_on_result_and_error_pages() {
    // (template, text to mark, shows on the result page, shows on the error page)
    let cases = [
        ("base.html", "<main id=\"main\"", true, true),
        ("_form.html", "<form method=", true, true),
        ("result.html", "<section class=\"result", true, false),
        ("index.html", "<section class=\"intro\">", false, true),
    ];
    let builtin = |name: &str| {
        std::fs::read_to_string(format!("{}/templates/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
    };
    let bad = "Pclass=1&Sex=&Age=abc&SibSp=0&Parch=0&Fare=80&Embarked=S";
    for (name, mark, on_result, on_error) in cases {
        let dir = tempfile::tempdir().unwrap();
        let text = builtin(name);
        assert!(text.contains(mark), "{name} has no {mark}");
        let marked = mark.replacen('<', "<!--replaced--><", 1);
        std::fs::write(dir.path().join(name), text.replacen(mark, &marked, 1)).unwrap();
        let s = start_with(ServeConfig {
            templates: Some(dir.path().to_path_buf()),
            ..Default::default()
        })
        .await;
        let form = "application/x-www-form-urlencoded";
        let (status, _, html) = parts(s.post("/predict", form, FORM).await).await;
        assert_eq!(status, 200);
        assert!(html.contains("Passenger survives"));
        assert_eq!(
            html.contains("<!--replaced-->"),
            on_result,
            "{name}: {html}"
        );
        let (status, _, html) = parts(s.post("/predict", form, bad).await).await;
        assert_eq!(status, 422);
        assert!(html.contains("Some values need a change"));
        assert_eq!(html.contains("<!--replaced-->"), on_error, "{name}: {html}");
    }
}

#[tokio::test]
async fn dev_mode_reloads_and_shows_template_errors_to_this_machine() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("model.html"), "first").unwrap();
    let s = start_with(ServeConfig {
        templates: Some(dir.path().to_path_buf()),
        dev: true,
        ..Default::default()
    })
    .await;
    assert_eq!(page(&s, "/model", None).await.1, "first");
    std::fs::write(dir.path().join("model.html"), "second").unwrap();
    assert_eq!(page(&s, "/model", None).await.1, "second");
    std::fs::write(dir.path().join("model.html"), "{{ nothing.here }}").unwrap();
    let (status, html) = page(&s, "/model", None).await;
    assert_eq!(status, 500);
    assert!(html.contains("model.html, line 1"), "{html}");
}

#[tokio::test]
async fn template_errors_are_not_shown_outside_dev() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("model.html"), "{{ nothing.here }}").unwrap();
    let s = start_with(ServeConfig {
        templates: Some(dir.path().to_path_buf()),
        ..Default::default()
    })
    .await;
    let (status, html) = page(&s, "/model", None).await;
    assert_eq!(status, 500);
    assert!(!html.contains("nothing"), "{html}");
    assert!(html.contains("something went wrong on our side"));
}

#[tokio::test]
async fn batch_reads_its_query_as_the_json_api_does() {
    let s = start().await;
    let post = |query: &'static str| {
        s.client
            .post(s.url(&format!("/batch?{query}")))
            .header("content-type", "text/csv")
            .body(CSV)
            .send()
    };
    // Every spelling /api/v1/predict takes for explain adds contributions.
    for query in [
        "format=csv&explain=1",
        "format=csv&explain=true",
        "format=csv&explain",
    ] {
        let (status, _, out) = parts(post(query).await.unwrap()).await;
        assert_eq!(status, 200, "{query}: {out}");
        let header = out.lines().next().unwrap();
        assert!(
            header.contains(",base,contribution_Pclass,"),
            "{query}: {header}"
        );
    }
    for query in [
        "format=csv&explain=0",
        "format=csv&explain=false",
        "format=csv",
    ] {
        let (status, _, out) = parts(post(query).await.unwrap()).await;
        assert_eq!(status, 200, "{query}: {out}");
        assert!(!out.contains("contribution_"), "{query}");
    }
    // And every value it refuses is refused here with the same message.
    for (value, shown) in [("yes", "yes"), ("TRUE", "TRUE"), ("maybe", "maybe")] {
        let query = format!("explain={value}");
        let api = s
            .client
            .post(s.url(&format!("/api/v1/predict?{query}")))
            .header("content-type", "application/json")
            .body(common::PASSENGER)
            .send()
            .await
            .unwrap();
        assert_eq!(api.status(), 400);
        let detail = api.json::<serde_json::Value>().await.unwrap()["detail"]
            .as_str()
            .unwrap()
            .to_string();
        assert_eq!(
            detail,
            format!("the query parameter explain is \"{shown}\"; use true or false")
        );
        let r = s
            .client
            .post(s.url(&format!("/batch?{query}")))
            .header("content-type", "text/csv")
            .body(CSV)
            .send()
            .await
            .unwrap();
        let (status, _, html) = parts(r).await;
        assert_eq!(status, 400, "{query}");
        let escaped = detail.replace('"', "&quot;");
        assert!(html.contains(&escaped), "{query}: {html}");
    }
    // A format other than csv or html is named, not ignored.
    let (status, ct, html) = parts(post("format=xml").await.unwrap()).await;
    assert_eq!(status, 400);
    assert!(ct.starts_with("text/html"));
    assert!(
        html.contains(
            "the query parameter format is &quot;xml&quot;; use csv (the scored file) or html (a page)"
        ),
        "{html}"
    );
    let (status, ct, _) = parts(post("format=html").await.unwrap()).await;
    assert_eq!((status, ct.starts_with("text/html")), (200, true));
    // The form's checkbox still turns explanations on.
    let form = reqwest::multipart::Form::new()
        .text("explain", "true")
        .part(
            "file",
            reqwest::multipart::Part::bytes(CSV.as_bytes().to_vec()).file_name("p.csv"),
        );
    let r = s
        .client
        .post(s.url("/batch?format=csv"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    let (status, _, out) = parts(r).await;
    assert_eq!(status, 200, "{out}");
    assert!(out.lines().next().unwrap().contains("contribution_Pclass"));
}

#[tokio::test]
async fn a_file_of_semicolons_comes_back_as_it_went() {
    let s = start().await;
    let post = |body: String, query: &'static str| {
        s.client
            .post(s.url(&format!("/batch?{query}")))
            .header("content-type", "text/csv")
            .body(body)
            .send()
    };
    // The tutorial's two passengers, as a spreadsheet in Spanish saves them.
    let semicolons = CSV
        .lines()
        .map(|line| line.replace(',', ";").replace('.', ","))
        .collect::<Vec<_>>()
        .join("\r\n");
    assert!(semicolons.contains("1;0;7,25;S"), "{semicolons}");
    let (status, _, commas) = parts(post(CSV.to_string(), "format=csv").await.unwrap()).await;
    assert_eq!(status, 200, "{commas}");
    let (status, _, out) = parts(post(semicolons, "format=csv").await.unwrap()).await;
    assert_eq!(status, 200, "{out}");
    // Every cell the comma file gets, with the separator and mark swapped.
    let swapped: Vec<String> = commas
        .lines()
        .map(|line| line.replace(',', ";").replace('.', ","))
        .collect();
    assert_eq!(out.lines().collect::<Vec<_>>(), swapped, "{out}");
    assert!(
        out.lines()
            .nth(1)
            .unwrap()
            .contains(";0;Passenger dies;0,9"),
        "{out}"
    );
    // The page says so, and its preview reads the cells.
    let r = post(
        "Pclass;Sex;Age;SibSp;Parch;Fare;Embarked\n3;male;22,5;1;0;7,25;S\n".into(),
        "format=html",
    )
    .await
    .unwrap();
    let (status, _, html) = parts(r).await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("separated by semicolons"), "{html}");
    assert!(html.contains("<td>22,5</td>"), "{html}");
    assert!(
        html.contains("<th scope=\"col\">probability_1</th>"),
        "{html}"
    );
    assert!(!html.contains("Windows-1252"), "{html}");
    // And as Excel saves it on Windows: in Windows-1252 (ñ is 0xF1).
    let r = s
        .client
        .post(s.url("/batch?format=html"))
        .header("content-type", "text/csv")
        .body(&b"Pclass;Sex;Age;SibSp;Parch;Fare;Embarked;Nombre\n3;male;22;1;0;7,25;S;Mu\xf1oz\n"[..])
        .send()
        .await
        .unwrap();
    let (status, _, html) = parts(r).await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("read as Windows-1252"), "{html}");
    assert!(html.contains("<td>Muñoz</td>"), "{html}");
}

#[tokio::test]
async fn a_program_asking_batch_for_csv_gets_problem_details() {
    let s = start().await;
    let ask = |query: &'static str, accept: &'static str, body: &'static str| {
        s.client
            .post(s.url(&format!("/batch{query}")))
            .header("content-type", "text/csv")
            .header("accept", accept)
            .body(body)
            .send()
    };
    for (query, accept) in [("", "text/csv"), ("?format=csv", "*/*")] {
        let (status, ctype, body) = parts(ask(query, accept, "x\n1\n").await.unwrap()).await;
        assert_eq!(status, 422, "{body}");
        assert_eq!(ctype, "application/problem+json");
        let problem: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert!(
            problem["detail"].as_str().unwrap().contains("are missing"),
            "{body}"
        );
        let (status, ctype, body) = parts(ask(query, accept, "").await.unwrap()).await;
        assert_eq!(status, 400, "{body}");
        assert_eq!(ctype, "application/problem+json");
    }
    // A person's browser still gets the page.
    let (status, ctype, body) = parts(ask("", "text/html", "x\n1\n").await.unwrap()).await;
    assert_eq!(status, 422);
    assert!(ctype.starts_with("text/html"), "{body}");
}

#[tokio::test]
async fn html_405s_keep_their_allow_header_in_both_languages() {
    let s = start().await;
    for (path, allow) in [
        ("/predict", "GET,HEAD,POST"),
        ("/batch", "GET,HEAD,POST"),
        ("/static/css/style.css", "GET,HEAD"),
        ("/", "GET,HEAD"),
    ] {
        for (lang, said) in [("en", "it accepts"), ("es", "admite")] {
            let r = s
                .client
                .put(s.url(&format!("{path}?lang={lang}")))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 405, "{path}");
            assert_eq!(r.headers()["allow"], allow, "{path} {lang}");
            let (_, ct, html) = parts(r).await;
            assert!(ct.starts_with("text/html"), "{path}: {ct}");
            let named = allow.replace(',', ", ");
            assert!(
                html.contains(&format!("{said} {named}")),
                "{path} {lang}: {html}"
            );
        }
    }
}

/// The header names a response's `Vary` lists, lower-cased.
fn vary(r: &reqwest::Response) -> Vec<String> {
    r.headers()
        .get_all("vary")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|h| h.trim().to_ascii_lowercase())
        .collect()
}

#[tokio::test]
async fn every_answer_in_the_visitors_language_varies_with_accept_language() {
    let s = start().await;
    let get = |path: &'static str| s.client.get(s.url(path)).header("accept-language", "es");
    let form = || {
        s.client
            .post(s.url("/predict"))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("accept-language", "es")
    };
    let requests = [
        ("the form", get("/"), 200),
        ("the model card", get("/model"), 200),
        ("the CSV page", get("/batch"), 200),
        ("the docs", get("/docs"), 200),
        ("a result", form().body(FORM), 200),
        ("a form with errors", form().body("Age=x"), 422),
        ("a missing page", get("/no/such/page"), 404),
        ("a missing static file", get("/static/nope.css"), 404),
        ("a path that does not decode", get("/static/%ff"), 400),
        (
            "a method not allowed",
            s.client.delete(s.url("/model")),
            405,
        ),
        (
            "a form that is not a form",
            s.client
                .post(s.url("/predict"))
                .header("content-type", "text/plain")
                .body("x"),
            415,
        ),
    ];
    for (what, request, status) in requests {
        let r = request.send().await.unwrap();
        assert_eq!(r.status(), status, "{what}");
        assert!(
            vary(&r).contains(&"accept-language".to_string()),
            "{what}: {:?}",
            vary(&r)
        );
    }
}

#[tokio::test]
async fn batch_answers_vary_with_accept_and_accept_language() {
    let s = start().await;
    for accept in ["text/csv", "text/html"] {
        let r = s
            .client
            .post(s.url("/batch"))
            .header("content-type", "text/csv")
            .header("accept", accept)
            .body(CSV)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{accept}");
        let vary = vary(&r);
        for name in ["accept", "accept-language"] {
            assert!(vary.contains(&name.to_string()), "{accept}: {vary:?}");
        }
    }
    // An error page too (a program asking for the CSV would get problem details).
    let r = s
        .client
        .post(s.url("/batch"))
        .header("content-type", "text/plain")
        .body("x")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 415);
    let vary = vary(&r);
    for name in ["accept", "accept-language"] {
        assert!(vary.contains(&name.to_string()), "{vary:?}");
    }
}

#[tokio::test]
async fn batch_reads_the_q_values_of_accept() {
    let s = start().await;
    for (accept, csv) in [
        ("text/csv;q=0, text/html", false),
        ("text/html;q=0.5, text/csv", true),
        ("text/csv", true),
        ("text/csv, */*;q=0.1", true),
        (
            "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
            false,
        ),
        ("*/*", false),
        ("application/json", false),
    ] {
        let r = s
            .client
            .post(s.url("/batch"))
            .header("content-type", "text/csv")
            .header("accept", accept)
            .body(CSV)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{accept}");
        let ct = r.headers()["content-type"].to_str().unwrap().to_string();
        let want = if csv { "text/csv" } else { "text/html" };
        assert!(ct.starts_with(want), "{accept}: {ct}");
    }
}

#[tokio::test]
async fn a_page_in_a_language_it_does_not_have_falls_back_and_links_to_the_others() {
    let s = start().await;
    for (accept, lang, other) in [(None, "en", "es"), (Some("es"), "es", "en")] {
        let (status, html) = page(&s, "/?lang=fr", accept).await;
        assert_eq!(status, 200);
        assert!(
            html.contains(&format!("<html lang=\"{lang}\">")),
            "{accept:?}"
        );
        // The link to the language it does have; links keep no ?lang=fr.
        assert!(
            html.contains(&format!("href=\"?lang={other}\"")),
            "{accept:?}"
        );
        assert!(!html.contains("lang=fr"), "{accept:?}");
    }
}

#[tokio::test]
async fn a_spanish_form_takes_a_decimal_comma_and_an_english_one_says_to_use_a_point() {
    let s = start().await;
    let s = &s;
    let post = |path: &'static str, body: &'static str| async move {
        parts(
            s.post(path, "application/x-www-form-urlencoded", body)
                .await,
        )
        .await
    };
    // As a browser sends it (the comma percent-encoded) and as typed.
    let comma = "Pclass=1&Sex=female&Age=29%2C5&SibSp=0&Parch=0&Fare=80,25&Embarked=S";
    let point = "Pclass=1&Sex=female&Age=29.5&SibSp=0&Parch=0&Fare=80.25&Embarked=S";
    let (status, _, html) = post("/predict?lang=es", comma).await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("El pasajero sobrevive"));
    assert!(html.contains("<td>29,5 años</td>"), "{html}");
    // The number inputs get the values back as they take them, with a point.
    assert!(html.contains("value=\"29.5\"") && html.contains("value=\"80.25\""));
    let (_, _, same) = post("/predict?lang=es", point).await;
    assert_eq!(html, same);
    // In English a comma is not read (not as 29.5, nor as thousands).
    for (body, value) in [
        (comma, "29,5"),
        (
            "Pclass=1&Sex=female&Age=29&SibSp=0&Parch=0&Fare=1,000&Embarked=S",
            "1,000",
        ),
    ] {
        let (status, _, html) = post("/predict", body).await;
        assert_eq!(status, 422, "{body}");
        assert!(
            html.contains(&format!(
                "&quot;{value}&quot; is not a number: write decimals with a point (7.25) and no thousands separators (1000);"
            )),
            "{html}"
        );
    }
    // Not in JSON either, whatever the language.
    let (status, _, body) = parts(
        s.post(
            "/api/v1/predict?lang=es",
            "application/json",
            r#"{"Pclass":1,"Sex":"female","Age":"29,5","SibSp":0,"Parch":0}"#,
        )
        .await,
    )
    .await;
    assert_eq!(status, 422, "{body}");
    assert!(
        body.contains("escriba los decimales con punto (7.25)"),
        "{body}"
    );
}

#[tokio::test]
async fn downloads_keep_letters_beyond_ascii_in_their_names() {
    let s = start().await;
    let upload = |format: &'static str| {
        // Raw UTF-8 in the part's filename, as browsers send it.
        let form = reqwest::multipart::Form::new()
            .part(
                "file",
                reqwest::multipart::Part::bytes(CSV.as_bytes().to_vec())
                    .file_name("pasajeros_año_ñandú.csv"),
            )
            .percent_encode_noop();
        s.client
            .post(s.url(&format!("/batch?format={format}")))
            .multipart(form)
            .send()
    };
    let r = upload("csv").await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.headers()["content-disposition"],
        "attachment; filename=\"pasajeros_a_o__and_-scored.csv\"; \
         filename*=UTF-8''pasajeros_a%C3%B1o_%C3%B1and%C3%BA-scored.csv"
    );
    let html = upload("html").await.unwrap().text().await.unwrap();
    assert!(
        html.contains("download=\"pasajeros_año_ñandú-scored.csv\""),
        "{html}"
    );
}
