//! A browser, as far as a test of server-rendered pages needs one: it
//! keeps cookies as a browser would (the ones a page sets come back on
//! the next request; `Max-Age=0` forgets one), does not follow
//! redirects, so a test sees each `303`, and says where its forms come
//! from. For what only a real browser does (scripts, CSP, focus), the
//! storefront's tests drive Chromium.

use std::collections::BTreeMap;

/// One browser's cookies and the client it sends them with.
pub struct Browser {
    http: reqwest::Client,
    pub cookies: BTreeMap<String, String>,
    /// Every `Set-Cookie` the last response sent, as sent.
    pub last_set_cookies: Vec<String>,
}

impl Default for Browser {
    fn default() -> Self {
        Self::new()
    }
}

impl Browser {
    pub fn new() -> Self {
        Self {
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            cookies: BTreeMap::new(),
            last_set_cookies: Vec::new(),
        }
    }

    fn cookie_header(&self) -> String {
        let pairs: Vec<String> = self
            .cookies
            .iter()
            .map(|(name, value)| format!("{name}={value}"))
            .collect();
        pairs.join("; ")
    }

    /// Keeps the cookies `response` sets; its status, and its `Location`
    /// (a redirect) or its body.
    async fn keep(&mut self, response: reqwest::Response) -> (u16, String) {
        self.last_set_cookies.clear();
        for set in response.headers().get_all("set-cookie") {
            let set = set.to_str().unwrap().to_owned();
            let (pair, _) = set.split_once(';').unwrap_or((&set, ""));
            let (name, value) = pair.split_once('=').unwrap();
            if set.contains("Max-Age=0") {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_owned(), value.to_owned());
            }
            self.last_set_cookies.push(set);
        }
        let status = response.status().as_u16();
        let location = response
            .headers()
            .get("location")
            .map(|l| l.to_str().unwrap().to_owned());
        (status, location.unwrap_or(response.text().await.unwrap()))
    }

    /// `GET url`: the status, and the `Location` or the body.
    pub async fn get(&mut self, url: &str) -> (u16, String) {
        let response = self
            .http
            .get(url)
            .header("cookie", self.cookie_header())
            .send()
            .await
            .unwrap();
        self.keep(response).await
    }

    /// Posts `form` from a page of the same origin, with the CSRF token
    /// this browser holds (the storefront's `bookshop_csrf` cookie).
    pub async fn post(&mut self, url: &str, form: &[(&str, &str)]) -> (u16, String) {
        let token = self
            .cookies
            .get("bookshop_csrf")
            .cloned()
            .unwrap_or_default();
        let mut fields = vec![("csrf", token.as_str())];
        fields.extend_from_slice(form);
        self.post_raw(url, &fields, "same-origin").await
    }

    /// Posts `form` as it is, saying it comes from `site`
    /// (`Sec-Fetch-Site`: `same-origin`, `cross-site`, ...).
    pub async fn post_raw(
        &mut self,
        url: &str,
        form: &[(&str, &str)],
        site: &str,
    ) -> (u16, String) {
        let response = self
            .http
            .post(url)
            .header("cookie", self.cookie_header())
            .header("sec-fetch-site", site)
            .form(form)
            .send()
            .await
            .unwrap();
        self.keep(response).await
    }
}
