//! Dropping unreferenced PDF objects and numbering the rest 1, 2, 3…, in one walk each.
//!
//! lopdf's `prune_objects` and `renumber_objects` look references up in a `Vec`, which is
//! quadratic: a document with tens of thousands of headings (bookmarks, destinations,
//! link annotations) spent most of its time there.

use std::collections::{BTreeMap, HashMap, HashSet};

use lopdf::{Document, Object, ObjectId};

/// Every reference directly inside `obj`.
fn references(obj: &Object, out: &mut Vec<ObjectId>) {
    match obj {
        Object::Reference(id) => out.push(*id),
        Object::Array(a) => a.iter().for_each(|o| references(o, out)),
        Object::Dictionary(d) => d.iter().for_each(|(_, o)| references(o, out)),
        Object::Stream(s) => s.dict.iter().for_each(|(_, o)| references(o, out)),
        _ => {}
    }
}

/// Points every reference inside `obj` at its new number.
fn rewrite(obj: &mut Object, map: &HashMap<ObjectId, ObjectId>) {
    match obj {
        Object::Reference(id) => {
            if let Some(new) = map.get(id) {
                *id = *new;
            }
        }
        Object::Array(a) => a.iter_mut().for_each(|o| rewrite(o, map)),
        Object::Dictionary(d) => d.iter_mut().for_each(|(_, o)| rewrite(o, map)),
        Object::Stream(s) => s.dict.iter_mut().for_each(|(_, o)| rewrite(o, map)),
        _ => {}
    }
}

/// Removes objects the trailer cannot reach and renumbers the rest in their old order.
pub(crate) fn prune_and_renumber(doc: &mut Document) {
    let mut reached: HashSet<ObjectId> = HashSet::new();
    let mut pending = Vec::new();
    doc.trailer
        .iter()
        .for_each(|(_, o)| references(o, &mut pending));
    while let Some(id) = pending.pop() {
        if reached.insert(id)
            && let Some(o) = doc.objects.get(&id)
        {
            references(o, &mut pending);
        }
    }
    doc.objects.retain(|id, _| reached.contains(id));

    let map: HashMap<ObjectId, ObjectId> = doc
        .objects
        .keys()
        .enumerate()
        .map(|(i, old)| (*old, (u32::try_from(i + 1).unwrap_or(u32::MAX), 0)))
        .collect();
    let old = std::mem::take(&mut doc.objects);
    let mut renumbered = BTreeMap::new();
    for (id, mut obj) in old {
        rewrite(&mut obj, &map);
        if let Some(new) = map.get(&id) {
            renumbered.insert(*new, obj);
        }
    }
    doc.objects = renumbered;
    doc.trailer.iter_mut().for_each(|(_, o)| rewrite(o, &map));
    doc.max_id = u32::try_from(doc.objects.len()).unwrap_or(u32::MAX);
}

#[cfg(test)]
mod tests {
    use super::*;
    use lopdf::dictionary;

    #[test]
    fn unreachable_objects_go_and_numbers_close_up() {
        let mut doc = Document::with_version("1.7");
        let orphan = doc.add_object(Object::Integer(7));
        let leaf = doc.add_object(Object::Integer(1));
        let root = doc.add_object(dictionary! { "Leaf" => leaf, "Self" => Object::Null });
        doc.trailer.set("Root", root);
        assert_eq!(orphan, (1, 0));
        prune_and_renumber(&mut doc);
        assert_eq!(doc.objects.len(), 2);
        assert_eq!(
            doc.trailer.get(b"Root").and_then(Object::as_reference).ok(),
            Some((2, 0))
        );
        let root = doc.get_dictionary((2, 0)).expect("root");
        assert_eq!(
            root.get(b"Leaf").and_then(Object::as_reference).ok(),
            Some((1, 0))
        );
        assert_eq!(doc.max_id, 2);
    }
}
