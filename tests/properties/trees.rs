//! The document trees browsers build, from two WHATWG tree builders that are not lol_html:
//! html5ever 0.40, whose `<select>` is the standard's current (relaxed) one, as in Chromium 135+,
//! and html5ever 0.36, which still has the "in select" insertion mode of Gecko, WebKit and
//! html5lib (it ignores most start tags inside a `<select>`, raw-text ones among them). Each
//! parses with scripting on or off (`<noscript>` content is text, or markup).
//!
//! Both are read into one plain [`Tree`], with the tree builder's form associations (the form
//! element pointer), so that the browser model judges every reading the same way.

/// Which `<select>` parser a reading follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SelectParser {
    /// The current standard: select content goes through "in body" (Chromium 135+).
    Relaxed,
    /// The "in select" insertion mode (Gecko, WebKit, html5lib).
    InSelect,
}

/// One way a browser may read a page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reading {
    pub select: SelectParser,
    pub scripting: bool,
}

impl Reading {
    /// Chromium with JavaScript: the reading lol_html's own view follows.
    pub const CHROMIUM: Self = Self {
        select: SelectParser::Relaxed,
        scripting: true,
    };

    /// Every reading the rewriter must be safe under.
    pub const ALL: [Self; 4] = [
        Self::CHROMIUM,
        Self {
            select: SelectParser::Relaxed,
            scripting: false,
        },
        Self {
            select: SelectParser::InSelect,
            scripting: true,
        },
        Self {
            select: SelectParser::InSelect,
            scripting: false,
        },
    ];
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ns {
    Html,
    Svg,
    MathMl,
    Other,
}

#[derive(Debug)]
pub enum Data {
    Document,
    Element {
        ns: Ns,
        name: String,
        /// Names as written in the tree (`xlink:` prefixed for XLink attributes).
        attrs: Vec<(String, String)>,
    },
    Text(String),
    Comment(String),
    Other,
}

#[derive(Debug)]
pub struct Node {
    pub data: Data,
    /// Indexes into [`Tree::nodes`]; template contents are left out (they are inert).
    pub children: Vec<usize>,
}

/// A parsed document: node 0 is the document.
#[derive(Debug)]
pub struct Tree {
    pub nodes: Vec<Node>,
    /// (control, form) pairs the tree builder associated through the form element pointer.
    pub associated: Vec<(usize, usize)>,
}

/// `html` as a browser reading it so builds it.
pub fn parse(html: &[u8], reading: Reading) -> Tree {
    match reading.select {
        SelectParser::Relaxed => relaxed::parse(html, reading.scripting),
        SelectParser::InSelect => in_select::parse(html, reading.scripting),
    }
}

/// One tree reader per html5ever version: their types differ, their code does not.
macro_rules! tree_reader {
    ($module:ident, $html5ever:ident, $rcdom:ident, { $($extra:tt)* }) => {
        mod $module {
            use std::{borrow::Cow, cell::RefCell, collections::HashMap, rc::Rc};

            use $html5ever::{
                Attribute, ExpandedName, ParseOpts, QualName,
                interface::{ElementFlags, NodeOrText, QuirksMode, TreeSink},
                tendril::{StrTendril, TendrilSink},
                tree_builder::TreeBuilderOpts,
            };
            use $rcdom::{Handle, NodeData, RcDom};

            use super::{Data, Node, Ns, Tree};

            /// An RcDom that also keeps the tree builder's form associations.
            struct OwnerSink {
                dom: RcDom,
                associated: RefCell<Vec<(Handle, Handle)>>,
            }

            impl TreeSink for OwnerSink {
                type Handle = Handle;
                type Output = (RcDom, Vec<(Handle, Handle)>);
                type ElemName<'a> = ExpandedName<'a>;

                fn finish(self) -> Self::Output {
                    (self.dom, self.associated.into_inner())
                }
                fn parse_error(&self, _: Cow<'static, str>) {}
                fn get_document(&self) -> Handle {
                    self.dom.get_document()
                }
                fn elem_name<'a>(&'a self, target: &'a Handle) -> ExpandedName<'a> {
                    self.dom.elem_name(target)
                }
                fn create_element(
                    &self,
                    name: QualName,
                    attrs: Vec<Attribute>,
                    flags: ElementFlags,
                ) -> Handle {
                    self.dom.create_element(name, attrs, flags)
                }
                fn create_comment(&self, text: StrTendril) -> Handle {
                    self.dom.create_comment(text)
                }
                fn create_pi(&self, target: StrTendril, data: StrTendril) -> Handle {
                    self.dom.create_pi(target, data)
                }
                fn append(&self, parent: &Handle, child: NodeOrText<Handle>) {
                    self.dom.append(parent, child);
                }
                fn append_based_on_parent_node(
                    &self,
                    element: &Handle,
                    prev: &Handle,
                    child: NodeOrText<Handle>,
                ) {
                    self.dom.append_based_on_parent_node(element, prev, child);
                }
                fn append_doctype_to_document(
                    &self,
                    name: StrTendril,
                    public: StrTendril,
                    system: StrTendril,
                ) {
                    self.dom.append_doctype_to_document(name, public, system);
                }
                fn get_template_contents(&self, target: &Handle) -> Handle {
                    self.dom.get_template_contents(target)
                }
                fn same_node(&self, x: &Handle, y: &Handle) -> bool {
                    Rc::ptr_eq(x, y)
                }
                fn set_quirks_mode(&self, mode: QuirksMode) {
                    self.dom.set_quirks_mode(mode);
                }
                fn append_before_sibling(&self, sibling: &Handle, child: NodeOrText<Handle>) {
                    self.dom.append_before_sibling(sibling, child);
                }
                fn add_attrs_if_missing(&self, target: &Handle, attrs: Vec<Attribute>) {
                    self.dom.add_attrs_if_missing(target, attrs);
                }
                fn associate_with_form(
                    &self,
                    target: &Handle,
                    form: &Handle,
                    _: (&Handle, Option<&Handle>),
                ) {
                    self.associated
                        .borrow_mut()
                        .push((Rc::clone(target), Rc::clone(form)));
                }
                fn remove_from_parent(&self, target: &Handle) {
                    self.dom.remove_from_parent(target);
                }
                fn reparent_children(&self, node: &Handle, new_parent: &Handle) {
                    self.dom.reparent_children(node, new_parent);
                }
                fn is_mathml_annotation_xml_integration_point(&self, handle: &Handle) -> bool {
                    self.dom.is_mathml_annotation_xml_integration_point(handle)
                }
                $($extra)*
            }

            pub fn parse(html: &[u8], scripting: bool) -> Tree {
                let sink = OwnerSink {
                    dom: RcDom::default(),
                    associated: RefCell::new(Vec::new()),
                };
                let opts = ParseOpts {
                    tree_builder: TreeBuilderOpts {
                        scripting_enabled: scripting,
                        ..Default::default()
                    },
                    ..Default::default()
                };
                // Decoded as a browser decodes UTF-8 (the WHATWG decoder: encoding_rs), a
                // leading byte order mark removed.
                let (text, _) = encoding_rs::UTF_8.decode_with_bom_removal(html);
                let (dom, associated) = $html5ever::parse_document(sink, opts).one(&*text);
                let mut tree = Tree {
                    nodes: Vec::new(),
                    associated: Vec::new(),
                };
                let mut index = HashMap::new();
                copy(&dom.document, &mut tree, &mut index);
                tree.associated = associated
                    .iter()
                    .filter_map(|(control, form)| {
                        Some((
                            *index.get(&Rc::as_ptr(control))?,
                            *index.get(&Rc::as_ptr(form))?,
                        ))
                    })
                    .collect();
                tree
            }

            fn copy(
                node: &Handle,
                tree: &mut Tree,
                index: &mut HashMap<*const $rcdom::Node, usize>,
            ) -> usize {
                let data = match &node.data {
                    NodeData::Document => Data::Document,
                    NodeData::Element { name, attrs, .. } => Data::Element {
                        ns: match &*name.ns {
                            "http://www.w3.org/1999/xhtml" => Ns::Html,
                            "http://www.w3.org/2000/svg" => Ns::Svg,
                            "http://www.w3.org/1998/Math/MathML" => Ns::MathMl,
                            _ => Ns::Other,
                        },
                        name: name.local.to_string(),
                        attrs: attrs
                            .borrow()
                            .iter()
                            .map(|a| {
                                let prefix = if &*a.name.ns == "http://www.w3.org/1999/xlink" {
                                    "xlink:"
                                } else {
                                    ""
                                };
                                (format!("{prefix}{}", a.name.local), a.value.to_string())
                            })
                            .collect(),
                    },
                    NodeData::Text { contents } => Data::Text(contents.borrow().to_string()),
                    NodeData::Comment { contents } => Data::Comment(contents.to_string()),
                    _ => Data::Other,
                };
                let at = tree.nodes.len();
                tree.nodes.push(Node {
                    data,
                    children: Vec::new(),
                });
                index.insert(Rc::as_ptr(node), at);
                for child in node.children.borrow().iter() {
                    let child = copy(child, tree, index);
                    tree.nodes[at].children.push(child);
                }
                at
            }
        }
    };
}

tree_reader!(relaxed, html5ever, markup5ever_rcdom, {
    fn maybe_clone_an_option_into_selectedcontent(&self, option: &Handle) {
        self.dom.maybe_clone_an_option_into_selectedcontent(option);
    }
});
tree_reader!(
    in_select,
    html5ever_in_select,
    markup5ever_rcdom_in_select,
    {}
);
