//! Just enough HTML scraping to read form fields and the client page (Tera escapes values).

/// Decodes the entities Tera's HTML escaping produces.
pub fn unescape(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#x27;", "'")
        .replace("&#39;", "'")
        .replace("&#x2F;", "/")
        .replace("&#x2f;", "/")
        .replace("&#47;", "/")
        .replace("&amp;", "&")
}

/// The value of attribute `name` in one tag's text (`<input a="b" ...>`), unescaped.
pub fn attr(tag: &str, name: &str) -> Option<String> {
    let bytes = tag.as_bytes();
    let mut from = 0;
    while let Some(found) = tag[from..].find(name) {
        let start = from + found;
        let end = start + name.len();
        from = end;
        let before_ok = start > 0 && bytes[start - 1].is_ascii_whitespace();
        let rest = tag[end..].trim_start();
        if !before_ok || !rest.starts_with('=') {
            continue;
        }
        let value = rest[1..].trim_start();
        let quote = value.chars().next()?;
        if quote == '"' || quote == '\'' {
            let inner = &value[1..];
            let close = inner.find(quote)?;
            return Some(unescape(&inner[..close]));
        }
        let close = value
            .find(|c: char| c.is_ascii_whitespace() || c == '>')
            .unwrap_or(value.len());
        return Some(unescape(&value[..close]));
    }
    None
}

/// Every `<tag ...>` opening tag in `html`.
fn tags<'a>(html: &'a str, tag: &'a str) -> impl Iterator<Item = &'a str> + 'a {
    let open = format!("<{tag}");
    let mut from = 0;
    std::iter::from_fn(move || loop {
        let start = from + html[from..].find(&open)?;
        let end = start + html[start..].find('>')? + 1;
        from = end;
        let next = html[start + open.len()..].chars().next();
        if next.is_some_and(|c| c.is_ascii_whitespace() || c == '>' || c == '/') {
            return Some(&html[start..end]);
        }
    })
}

/// The value of the first `<input name="name">`.
pub fn input_value(html: &str, name: &str) -> Option<String> {
    tags(html, "input")
        .find(|tag| attr(tag, "name").as_deref() == Some(name))
        .and_then(|tag| attr(tag, "value"))
}

/// The opening tag of the element with this `id`, and where it ends in `html`.
fn tag_with_id<'a>(html: &'a str, id: &str) -> Option<(&'a str, usize)> {
    ['"', '\''].into_iter().find_map(|quote| {
        let at = html.find(&format!("id={quote}{id}{quote}"))?;
        let tag_start = html[..at].rfind('<')?;
        let tag_end = at + html[at..].find('>')?;
        Some((&html[tag_start..=tag_end], tag_end))
    })
}

/// The value of attribute `name` of the element with this `id`.
pub fn attr_of(html: &str, id: &str, name: &str) -> Option<String> {
    tag_with_id(html, id).and_then(|(tag, _)| attr(tag, name))
}

/// The text content of the element with this `id` (or its `value` when it is an input).
pub fn element_text(html: &str, id: &str) -> Option<String> {
    let (tag, tag_end) = tag_with_id(html, id)?;
    if tag.starts_with("<input") {
        return attr(tag, "value");
    }
    let text_end = tag_end + 1 + html[tag_end + 1..].find('<')?;
    Some(unescape(html[tag_end + 1..text_end].trim()))
}

/// The hidden inputs `(name, value)` of the first form whose action contains `action`.
pub fn form_hidden_inputs(html: &str, action: &str) -> Vec<(String, String)> {
    let Some(form_tag) =
        tags(html, "form").find(|tag| attr(tag, "action").is_some_and(|a| a.contains(action)))
    else {
        return Vec::new();
    };
    let start = html.find(form_tag).unwrap_or(0);
    let end = html[start..]
        .find("</form>")
        .map_or(html.len(), |end| start + end);
    tags(&html[start..end], "input")
        .filter(|tag| attr(tag, "type").is_some_and(|t| t.eq_ignore_ascii_case("hidden")))
        .filter_map(|tag| Some((attr(tag, "name")?, attr(tag, "value").unwrap_or_default())))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scrapes_inputs_ids_and_forms() {
        let page = r#"<form method="post" action="&#x2F;oauth&#x2F;authorize">
            <input type="hidden" name="redirect_uri" value="https:&#x2F;&#x2F;c.example&#x2F;cb?a=1&amp;b=2">
            <input type="hidden" name="csrf_token" value="abc">
            <button name="confirm" value="yes">Allow</button></form>
            <code id="client_id"> xyz </code><input id="client_secret" value="s3">"#;
        assert_eq!(input_value(page, "csrf_token").as_deref(), Some("abc"));
        assert_eq!(element_text(page, "client_id").as_deref(), Some("xyz"));
        assert_eq!(element_text(page, "client_secret").as_deref(), Some("s3"));
        let form = form_hidden_inputs(page, "/oauth/authorize");
        assert_eq!(
            form[0],
            (
                "redirect_uri".to_owned(),
                "https://c.example/cb?a=1&b=2".to_owned()
            )
        );
        assert_eq!(form.len(), 2);
    }
}
