//! One browser window and what a user does in it: go to a page, find a field by its label or
//! a button by its accessible name, type, click, press keys; and the screenshots.

use std::path::PathBuf;

use fantoccini::actions::{InputSource as _, KeyAction, KeyActions};
use fantoccini::elements::Element;
use fantoccini::key::Key;
use fantoccini::{Client, Locator};
use serde_json::Value;
use url::Url;

use super::driver::{DESKTOP, MOBILE, POLL, TIMEOUT};

/// The tallest full-page screenshot (longer pages are cut there).
const MAX_SCREENSHOT_HEIGHT: u64 = 2400;

/// Where the committed screenshots go: `docs/screenshots/` in the workspace.
fn screenshot_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/screenshots"))
}

/// `text` as an XPath string literal (the pages' texts have no apostrophes).
fn literal(text: &str) -> String {
    assert!(!text.contains('\''), "no apostrophe in XPath text: {text}");
    format!("'{text}'")
}

/// A Chromium window of one flow, on one Tessera server.
pub struct Browser {
    client: Client,
    flow: &'static str,
    base: String,
}

impl Browser {
    /// Wraps a WebDriver session; `base` is the server's `http://127.0.0.1:<port>`.
    pub fn new(client: Client, flow: &'static str, base: &str) -> Self {
        Self {
            client,
            flow,
            base: base.to_owned(),
        }
    }

    /// Opens `path` on the server (as typing it in the address bar would).
    pub async fn open(&self, path: &str) {
        self.open_url(&format!("{}{path}", self.base)).await;
    }

    /// Opens an absolute URL.
    pub async fn open_url(&self, url: &str) {
        self.client
            .goto(url)
            .await
            .unwrap_or_else(|e| panic!("GET {url}: {e}"));
    }

    /// The URL shown now.
    pub async fn url(&self) -> Url {
        self.client.current_url().await.expect("the current URL")
    }

    /// Waits (at most [`TIMEOUT`]) for an element matching `xpath`; `what` names it in the
    /// failure.
    pub async fn wait_xpath(&self, xpath: &str, what: &str) -> Element {
        match self
            .client
            .wait()
            .at_most(TIMEOUT)
            .every(POLL)
            .for_element(Locator::XPath(xpath))
            .await
        {
            Ok(element) => element,
            Err(e) => {
                let url = self.url().await;
                panic!("no {what} on {url} within {TIMEOUT:?} ({xpath}): {e}")
            }
        }
    }

    /// Waits for the element with this `id`.
    pub async fn wait_id(&self, id: &str) -> Element {
        self.wait_xpath(&format!("//*[@id={}]", literal(id)), &format!("#{id}"))
            .await
    }

    /// Waits for the page whose `<h1>` reads `title`.
    pub async fn wait_heading(&self, title: &str) {
        self.wait_xpath(
            &format!("//h1[normalize-space()={}]", literal(title)),
            &format!("heading {title:?}"),
        )
        .await;
    }

    /// Every element matching `xpath` now (no wait).
    pub async fn all(&self, xpath: &str) -> Vec<Element> {
        self.client
            .find_all(Locator::XPath(xpath))
            .await
            .unwrap_or_else(|e| panic!("find {xpath}: {e}"))
    }

    /// The text of the element with this `id` (waiting for it).
    pub async fn text_of(&self, id: &str) -> String {
        self.wait_id(id)
            .await
            .text()
            .await
            .expect("an element's text")
    }

    /// The whole visible text of the page.
    pub async fn page_text(&self) -> String {
        self.wait_xpath("//body", "body")
            .await
            .text()
            .await
            .expect("the page's text")
    }

    /// The form field labelled `label`: a `<label for=…>` whose text is `label`, or `label`
    /// followed by a parenthesised hint; fails when the label names no field.
    pub async fn field(&self, label: &str) -> Element {
        let xpath = format!(
            "//label[normalize-space()={0} or starts-with(normalize-space(), {1})]",
            literal(label),
            literal(&format!("{label} (")),
        );
        let found = self.wait_xpath(&xpath, &format!("label {label:?}")).await;
        let id = found
            .attr("for")
            .await
            .expect("the label's for attribute")
            .unwrap_or_else(|| panic!("the label {label:?} names no field (no for=)"));
        self.wait_id(&id).await
    }

    /// Types `text` into the field labelled `label` (after what it holds).
    pub async fn fill(&self, label: &str, text: &str) {
        let field = self.field(label).await;
        field.click().await.expect("focus the field");
        field
            .send_keys(text)
            .await
            .unwrap_or_else(|e| panic!("type into {label:?}: {e}"));
    }

    /// Replaces what the field labelled `label` holds with `text`.
    pub async fn replace(&self, label: &str, text: &str) {
        self.field(label)
            .await
            .clear()
            .await
            .unwrap_or_else(|e| panic!("clear {label:?}: {e}"));
        self.fill(label, text).await;
    }

    /// The value the field labelled `label` holds now.
    pub async fn value_of(&self, label: &str) -> String {
        self.field(label)
            .await
            .prop("value")
            .await
            .unwrap_or_else(|e| panic!("the value of {label:?}: {e}"))
            .unwrap_or_default()
    }

    /// Ticks the checkbox whose label reads `label` (a no-op when it is ticked already).
    pub async fn tick(&self, label: &str) {
        self.set_ticked(label, true).await;
    }

    /// Unticks the checkbox whose label reads `label` (a no-op when it is not ticked).
    pub async fn untick(&self, label: &str) {
        self.set_ticked(label, false).await;
    }

    async fn set_ticked(&self, label: &str, ticked: bool) {
        let xpath = format!(
            "//label[normalize-space()={}]/input[@type='checkbox']",
            literal(label)
        );
        let checkbox = self
            .wait_xpath(&xpath, &format!("checkbox {label:?}"))
            .await;
        if checkbox.is_selected().await.expect("whether it is ticked") != ticked {
            checkbox
                .click()
                .await
                .unwrap_or_else(|e| panic!("click the checkbox {label:?}: {e}"));
        }
    }

    /// Chooses the option with `value` in the select labelled `label`.
    pub async fn choose(&self, label: &str, value: &str) {
        self.field(label)
            .await
            .select_by_value(value)
            .await
            .unwrap_or_else(|e| panic!("choose {value:?} in {label:?}: {e}"));
    }

    /// The one button whose accessible name is `name` (its `aria-label`, else its text),
    /// within `scope` (an XPath, `//` for the whole page).
    pub async fn button_in(&self, scope: &str, name: &str) -> Element {
        let name = literal(name);
        let xpath = format!(
            "{scope}//button[@aria-label={name} or (not(@aria-label) and normalize-space()={name})]"
        );
        self.wait_xpath(&xpath, &format!("button {name}")).await;
        let mut found = self.all(&xpath).await;
        assert_eq!(found.len(), 1, "more than one button {name} ({xpath})");
        found.remove(0)
    }

    /// Clicks the one button named `name` on the page.
    pub async fn click(&self, name: &str) {
        self.button_in("", name)
            .await
            .click()
            .await
            .unwrap_or_else(|e| panic!("click {name:?}: {e}"));
    }

    /// Clicks the link whose text is `text`.
    pub async fn follow_link(&self, text: &str) {
        self.wait_xpath(
            &format!("//a[normalize-space()={}]", literal(text)),
            &format!("link {text:?}"),
        )
        .await
        .click()
        .await
        .unwrap_or_else(|e| panic!("click the link {text:?}: {e}"));
    }

    /// Presses and releases `key` on the focused element, as the keyboard does.
    pub async fn press(&self, key: Key) {
        self.keys(&[key.into()]).await;
    }

    /// Types `text` key by key on the focused element.
    pub async fn type_keys(&self, text: &str) {
        self.keys(&text.chars().collect::<Vec<_>>()).await;
    }

    /// What the clipboard holds, as the user gets it: pasted with Ctrl+V into a text field
    /// added to the page for the purpose (and removed again).
    pub async fn clipboard_text(&self) -> String {
        self.script(
            "const field = document.createElement('textarea'); field.id = 'pasted'; \
             document.body.append(field); field.focus();",
        )
        .await;
        let paste = KeyActions::new("keyboard".into())
            .then(KeyAction::Down {
                value: Key::Control.into(),
            })
            .then(KeyAction::Down { value: 'v' })
            .then(KeyAction::Up { value: 'v' })
            .then(KeyAction::Up {
                value: Key::Control.into(),
            });
        self.client.perform_actions(paste).await.expect("Ctrl+V");
        let pasted = self
            .script("const field = document.getElementById('pasted'); field.remove(); return field.value;")
            .await;
        pasted.as_str().expect("the pasted text").to_owned()
    }

    async fn keys(&self, keys: &[char]) {
        let actions = keys
            .iter()
            .fold(KeyActions::new("keyboard".into()), |actions, key| {
                actions
                    .then(KeyAction::Down { value: *key })
                    .then(KeyAction::Up { value: *key })
            });
        self.client
            .perform_actions(actions)
            .await
            .expect("the key presses");
    }

    /// `(tag, id, text)` of the focused element.
    pub async fn focused(&self) -> (String, String, String) {
        let focused = self
            .client
            .active_element()
            .await
            .expect("the focused element");
        (
            focused.tag_name().await.expect("its tag"),
            focused
                .attr("id")
                .await
                .expect("its id")
                .unwrap_or_default(),
            focused.text().await.expect("its text"),
        )
    }

    /// Runs `script` in the page and returns its result.
    pub async fn script(&self, script: &str) -> Value {
        self.client
            .execute(script, Vec::new())
            .await
            .unwrap_or_else(|e| panic!("script {script}: {e}"))
    }

    /// Saves the whole page (not only the window) as `docs/screenshots/<flow>-<step>.png`.
    pub async fn snap(&self, step: &str) {
        self.save(&format!("{}-{step}", self.flow)).await;
    }

    /// Shows the page in a phone-width window, checks that nothing is wider than the window
    /// (no sideways scrolling), saves it as `docs/screenshots/mobile-<name>.png`, and goes
    /// back to the desktop window.
    pub async fn snap_mobile(&self, name: &str) {
        self.resize(MOBILE).await;
        let widths = self
            .script("return [document.documentElement.scrollWidth, window.innerWidth];")
            .await;
        assert_eq!(
            widths[1].as_u64(),
            Some(u64::from(MOBILE.0)),
            "the phone window's width: {widths}"
        );
        assert!(
            widths[0].as_u64() <= widths[1].as_u64(),
            "the page is wider than a phone, [page, window] = {widths}"
        );
        self.save(&format!("mobile-{name}")).await;
        self.resize(DESKTOP).await;
    }

    /// Resizes the window so that its viewport is `(width, height)`.
    async fn resize(&self, (width, height): (u32, u32)) {
        let (outer_width, outer_height) = self.window_size().await;
        let inner = self
            .script("return [window.innerWidth, window.innerHeight];")
            .await;
        let extra = |outer: u64, index: usize| {
            outer.saturating_sub(inner[index].as_u64().expect("a viewport size"))
        };
        let width = u64::from(width) + extra(outer_width, 0);
        let height = u64::from(height) + extra(outer_height, 1);
        self.set_window_size(width, height).await;
    }

    async fn window_size(&self) -> (u64, u64) {
        self.client
            .get_window_size()
            .await
            .expect("the window's size")
    }

    async fn set_window_size(&self, width: u64, height: u64) {
        let narrow = |n: u64| u32::try_from(n).expect("a window size fits u32");
        self.client
            .set_window_size(narrow(width), narrow(height))
            .await
            .expect("the window resizes");
    }

    /// A PNG of the whole page: the window is made as tall as the page for the shot.
    async fn save(&self, name: &str) {
        let (width, height) = self.window_size().await;
        let sizes = self
            .script("return [document.documentElement.scrollHeight, window.innerHeight];")
            .await;
        let page = sizes[0].as_u64().expect("the page's height");
        let inner = sizes[1].as_u64().expect("the viewport's height");
        let taller = page > inner;
        if taller {
            let wanted = height - inner + page.min(MAX_SCREENSHOT_HEIGHT);
            self.set_window_size(width, wanted).await;
        }
        let png = self.client.screenshot().await.expect("a screenshot");
        if taller {
            self.set_window_size(width, height).await;
        }
        let dir = screenshot_dir();
        std::fs::create_dir_all(&dir).expect("docs/screenshots is writable");
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, png).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
    }
}
