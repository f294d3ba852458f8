//! A small element tree: enough for stanzas, which are small and shallow.
//!
//! Trees come from the peer, so their depth is the peer's to choose: the reader refuses
//! anything deeper than [`MAX_DEPTH`](super::reader::MAX_DEPTH) levels, which bounds the
//! derived `Clone`, `Debug` and `PartialEq` (recursive) to that depth. Dropping a tree
//! never recurses at all.

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
    /// An element without children or text.
    pub(crate) fn new(name: String, attrs: Vec<(String, String)>) -> Self {
        Self {
            name,
            attrs,
            children: Vec::new(),
            text: String::new(),
        }
    }

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

    /// [`child`](Self::child), to take from.
    pub(crate) fn child_mut(&mut self, local_name: &str) -> Option<&mut Element> {
        self.children
            .iter_mut()
            .find(|c| c.local_name() == local_name)
    }

    /// [`child_ns`](Self::child_ns), to take from.
    pub(crate) fn child_ns_mut(&mut self, local_name: &str, xmlns: &str) -> Option<&mut Element> {
        self.children
            .iter_mut()
            .find(|c| c.local_name() == local_name && c.attr("xmlns") == Some(xmlns))
    }
}

impl Drop for Element {
    /// Iterative: the children of children are moved into one list and dropped as
    /// leaves, so no depth of tree can overflow the stack.
    fn drop(&mut self) {
        let mut descendants = std::mem::take(&mut self.children);
        while let Some(mut element) = descendants.pop() {
            descendants.append(&mut element.children);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dropping_a_deep_tree_does_not_recurse() {
        let mut tree = Element::new("a".into(), Vec::new());
        for _ in 0..1_000_000 {
            let mut parent = Element::new("a".into(), Vec::new());
            parent.children.push(tree);
            tree = parent;
        }
        drop(tree);
    }
}
