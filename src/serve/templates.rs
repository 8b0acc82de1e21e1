//! Templates and static files, Flask-style: `templates/*.html` and
//! `static/**` are embedded in the binary; a file of the same name in
//! `--templates DIR` / `--static DIR` replaces the built-in one. Templates are
//! compiled once at startup; with `--dev` they (and static files) are read
//! from disk on every request, so an edit shows on the next reload.
//!
//! This module knows nothing of routes or models: it turns a name and a
//! context into HTML, and a path into bytes.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use axum::body::Bytes;
use minijinja::value::Kwargs;
use minijinja::{Environment, Error, ErrorKind, UndefinedBehavior, Value};

#[derive(rust_embed::Embed)]
#[folder = "templates/"]
struct EmbeddedTemplates;

#[derive(rust_embed::Embed)]
#[folder = "static/"]
struct EmbeddedStatic;

/// The names of the built-in templates.
pub fn builtin_names() -> Vec<String> {
    EmbeddedTemplates::iter().map(|n| n.to_string()).collect()
}

/// Where templates and static files come from.
#[derive(Debug, Clone, Default)]
pub struct Sources {
    pub templates: Option<PathBuf>,
    pub statics: Option<PathBuf>,
    /// Read from disk per request instead of once.
    pub dev: bool,
}

pub struct Templates {
    sources: Sources,
    /// The compiled environment; `None` in dev mode (built per render).
    env: Option<Environment<'static>>,
    /// Names of the templates `--templates` replaced.
    overridden: Vec<String>,
    statics: HashMap<String, StaticFile>,
}

#[derive(Clone)]
pub struct StaticFile {
    pub bytes: Bytes,
    pub content_type: &'static str,
}

impl Templates {
    /// Loads and compiles everything; a template with a syntax error stops startup.
    pub fn load(sources: Sources) -> Result<Templates, TemplateError> {
        let env = if sources.dev {
            // Still compile once, so a broken template is reported at startup.
            build_env(sources.templates.as_deref())?;
            None
        } else {
            Some(build_env(sources.templates.as_deref())?)
        };
        let overridden = match &sources.templates {
            Some(dir) => dir_templates(dir)?
                .into_iter()
                .map(|(name, _)| name)
                .collect(),
            None => Vec::new(),
        };
        let statics = if sources.dev {
            HashMap::new()
        } else {
            load_statics(sources.statics.as_deref())?
        };
        Ok(Templates {
            sources,
            env,
            overridden,
            statics,
        })
    }

    /// Whether all of `names` are the built-in templates for as long as this
    /// runs: none is replaced by `--templates`, and not in `--dev` (where a
    /// file may appear or change on disk).
    pub fn all_builtin(&self, names: &[&str]) -> bool {
        !self.sources.dev && !names.iter().any(|n| self.overridden.iter().any(|o| o == n))
    }

    pub fn is_dev(&self) -> bool {
        self.sources.dev
    }

    /// Renders template `name`.
    pub fn render(&self, name: &str, ctx: Value) -> Result<String, Error> {
        match &self.env {
            Some(env) => env.get_template(name)?.render(ctx),
            None => {
                let env = build_env(self.sources.templates.as_deref())
                    .map_err(|e| Error::new(ErrorKind::InvalidOperation, e.to_string()))?;
                env.get_template(name)?.render(ctx)
            }
        }
    }

    /// A static file by its path under `static/`.
    pub fn static_file(&self, path: &str) -> Option<StaticFile> {
        if !self.sources.dev {
            return self.statics.get(path).cloned();
        }
        if path.split('/').any(|p| p == ".." || p.is_empty()) {
            return None;
        }
        if let Some(dir) = &self.sources.statics
            && let Ok(bytes) = std::fs::read(dir.join(path))
        {
            return Some(StaticFile {
                bytes: bytes.into(),
                content_type: content_type(path),
            });
        }
        EmbeddedStatic::get(path).map(|f| StaticFile {
            bytes: Bytes::from(f.data.into_owned()),
            content_type: content_type(path),
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    #[error("template {name}: {error}")]
    Template { name: String, error: String },
    #[error("cannot read {}: {error}", path.display())]
    Read {
        path: PathBuf,
        error: std::io::Error,
    },
}

/// Reads a directory's `*.html` files (not recursive: templates are flat, as in Flask).
fn dir_templates(dir: &Path) -> Result<Vec<(String, String)>, TemplateError> {
    let read_err = |error| TemplateError::Read {
        path: dir.to_path_buf(),
        error,
    };
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(read_err)? {
        let entry = entry.map_err(read_err)?;
        let path = entry.path();
        let is_html = path.extension().is_some_and(|e| e == "html");
        if is_html && path.is_file() {
            let name = entry.file_name().to_string_lossy().to_string();
            let text = std::fs::read_to_string(&path).map_err(|error| TemplateError::Read {
                path: path.clone(),
                error,
            })?;
            out.push((name, text));
        }
    }
    Ok(out)
}

fn build_env(dir: Option<&Path>) -> Result<Environment<'static>, TemplateError> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    // Flask's Jinja users often set these too: block tags leave no blank lines.
    if let Ok(syntax) = minijinja::syntax::SyntaxConfig::builder()
        .trim_blocks(true)
        .lstrip_blocks(true)
        .build()
    {
        env.set_syntax(syntax);
    }
    env.add_filter("fill", fill);
    let mut sources: HashMap<String, String> = EmbeddedTemplates::iter()
        .filter_map(|name| {
            let file = EmbeddedTemplates::get(&name)?;
            let text = String::from_utf8_lossy(&file.data).into_owned();
            Some((name.to_string(), text))
        })
        .collect();
    if let Some(dir) = dir {
        sources.extend(dir_templates(dir)?);
    }
    for (name, text) in sources {
        env.add_template_owned(name.clone(), text)
            .map_err(|e| TemplateError::Template {
                name,
                error: describe(&e),
            })?;
    }
    Ok(env)
}

/// A template error with its template name and line, for logs and `--dev` pages.
pub fn describe(e: &Error) -> String {
    let mut s = e.to_string();
    if let (Some(name), Some(line)) = (e.name(), e.line()) {
        s = format!("{s} ({name}, line {line})");
    }
    s
}

/// `"{n} rows"|fill(n=3)`: fills `{name}` placeholders in a translated string.
fn fill(text: String, kwargs: Kwargs) -> Result<String, Error> {
    let mut out = text;
    for key in kwargs.args() {
        let value: Value = kwargs.get(key)?;
        out = out.replace(&format!("{{{key}}}"), &value.to_string());
    }
    Ok(out)
}

fn load_statics(dir: Option<&Path>) -> Result<HashMap<String, StaticFile>, TemplateError> {
    let mut files: HashMap<String, StaticFile> = EmbeddedStatic::iter()
        .filter_map(|name| {
            let f = EmbeddedStatic::get(&name)?;
            Some((
                name.to_string(),
                StaticFile {
                    bytes: Bytes::from(f.data.into_owned()),
                    content_type: content_type(&name),
                },
            ))
        })
        .collect();
    if let Some(dir) = dir {
        let mut stack = vec![dir.to_path_buf()];
        while let Some(d) = stack.pop() {
            let read_err = |error| TemplateError::Read {
                path: d.clone(),
                error,
            };
            for entry in std::fs::read_dir(&d).map_err(read_err)? {
                let path = entry.map_err(read_err)?.path();
                if path.is_dir() {
                    stack.push(path);
                } else if let Ok(rel) = path.strip_prefix(dir) {
                    let name = rel.to_string_lossy().replace('\\', "/");
                    let bytes = std::fs::read(&path).map_err(|error| TemplateError::Read {
                        path: path.clone(),
                        error,
                    })?;
                    let content_type = content_type(&name);
                    files.insert(
                        name,
                        StaticFile {
                            bytes: bytes.into(),
                            content_type,
                        },
                    );
                }
            }
        }
    }
    Ok(files)
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next().unwrap_or("") {
        "css" => "text/css; charset=utf-8",
        "js" => "text/javascript; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "jpg" | "jpeg" => "image/jpeg",
        "woff2" => "font/woff2",
        "txt" => "text/plain; charset=utf-8",
        "json" => "application/json",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_templates_compile_and_statics_load() {
        let t = Templates::load(Sources::default()).unwrap();
        assert!(t.static_file("css/style.css").is_some());
        assert!(builtin_names().contains(&"base.html".to_string()));
    }

    #[test]
    fn a_file_in_the_templates_dir_replaces_the_built_in_one() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("mine.html"), "hello {{ name }}").unwrap();
        let t = Templates::load(Sources {
            templates: Some(dir.path().to_path_buf()),
            ..Default::default()
        })
        .unwrap();
        let out = t
            .render("mine.html", minijinja::context! { name => "<b>" })
            .unwrap();
        assert_eq!(out, "hello &lt;b&gt;");
    }

    #[test]
    fn syntax_errors_name_the_template_and_line() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("index.html"), "line\n{% if %}").unwrap();
        let err = Templates::load(Sources {
            templates: Some(dir.path().to_path_buf()),
            ..Default::default()
        })
        .err()
        .unwrap()
        .to_string();
        assert!(err.contains("index.html"), "{err}");
        assert!(err.contains("line 2"), "{err}");
    }

    #[test]
    fn fill_placeholders() {
        let t = Templates::load(Sources::default()).unwrap();
        let _ = t;
        let mut env = Environment::new();
        env.add_filter("fill", fill);
        let out = env
            .render_str(
                "{{ 'a {x} b {y}'|fill(x=1, y='z') }}",
                minijinja::context! {},
            )
            .unwrap();
        assert_eq!(out, "a 1 b z");
    }
}
