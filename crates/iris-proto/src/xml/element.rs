//! A small element tree: enough for stanzas, which are small and shallow.

/// One element with its attributes (unescaped), children and text.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Element {
    /// The qualified name as written (`stream:features`, `iq`).
    pub(crate) name: String,
    pub(crate) attrs: Vec<(String, String)>,
    pub(crate) children: Vec<Element>,
    pub(crate) text: String,
}

impl Element {
    /// The name without its prefix.
    pub(crate) fn local_name(&self) -> &str {
        self.name.rsplit(':').next().unwrap_or(&self.name)
    }

    pub(crate) fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The first child with this local name.
    pub(crate) fn child(&self, local_name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.local_name() == local_name)
    }

    /// The first child with this local name and namespace.
    pub(crate) fn child_ns(&self, local_name: &str, xmlns: &str) -> Option<&Element> {
        self.children
            .iter()
            .find(|c| c.local_name() == local_name && c.attr("xmlns") == Some(xmlns))
    }
}
