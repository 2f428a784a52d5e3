//! One conversation's turns, packed for RAM. All of a conversation's text
//! (each question followed by its answer) lives in one exact-size buffer, and
//! a turn adds only a 24-byte record: its lengths, time, who asked (an index
//! into the conversation's own list of people) and the model that answered
//! (an index into a [`ModelTable`] shared by the whole store). No per-turn
//! allocation means no per-turn malloc header or rounding either.
//!
//! An append rebuilds the buffer (one allocation and a copy of a few KiB),
//! which is noise next to the provider call that produced the turn.

use std::collections::HashMap;
use std::sync::Arc;

use crate::chat::types::Turn;
use crate::providers::ProviderKind;

/// Too large for the packed indexes: a text over 4 GiB, or more than 65,536
/// models in a store or people in one conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct TooLarge;

/// Every (provider, model) pair a store has seen, so turns refer to them by index.
/// A store meets a handful of models, so the table stays tiny.
#[derive(Debug, Default)]
pub(super) struct ModelTable {
    entries: Vec<(ProviderKind, Arc<str>)>,
    index: [HashMap<Arc<str>, u16>; 2],
}

impl ModelTable {
    fn intern(&mut self, provider: ProviderKind, model: &str) -> Result<u16, TooLarge> {
        let slot = provider_slot(provider);
        if let Some(&id) = self.index[slot].get(model) {
            return Ok(id);
        }
        let id = u16::try_from(self.entries.len()).map_err(|_| TooLarge)?;
        let name: Arc<str> = Arc::from(model);
        self.entries.push((provider, Arc::clone(&name)));
        self.index[slot].insert(name, id);
        Ok(id)
    }

    fn get(&self, id: u16) -> (ProviderKind, &str) {
        // Ids only come from `intern` on this same table, which never forgets.
        match self.entries.get(usize::from(id)) {
            Some((provider, model)) => (*provider, model),
            None => (ProviderKind::OpenAi, ""),
        }
    }
}

fn provider_slot(provider: ProviderKind) -> usize {
    match provider {
        ProviderKind::OpenAi => 0,
        ProviderKind::Perplexity => 1,
    }
}

/// One stored turn; its text is the next `question_len + answer_len` bytes of the buffer.
#[derive(Debug, Clone, Copy)]
struct PackedTurn {
    at: i64,
    question_len: u32,
    answer_len: u32,
    person: u16,
    model: u16,
}

impl PackedTurn {
    fn text_len(&self) -> usize {
        self.question_len as usize + self.answer_len as usize
    }
}

/// A conversation's turns, oldest first, never more than the `max_turns` given to [`TurnLog::push`].
#[derive(Debug, Default)]
pub(super) struct TurnLog {
    text: Box<str>,
    turns: Vec<PackedTurn>,
    people: Vec<Box<str>>,
}

impl TurnLog {
    pub(super) fn len(&self) -> usize {
        self.turns.len()
    }

    pub(super) fn is_empty(&self) -> bool {
        self.turns.is_empty()
    }

    /// Unix seconds of the newest turn, `None` while empty.
    pub(super) fn last_active(&self) -> Option<i64> {
        self.turns.iter().map(|t| t.at).max()
    }

    /// Appends a turn, first dropping the oldest turns so at most `max_turns` remain.
    pub(super) fn push(
        &mut self,
        turn: Turn,
        models: &mut ModelTable,
        max_turns: usize,
    ) -> Result<(), TooLarge> {
        if max_turns == 0 {
            return Ok(());
        }
        let question_len = u32::try_from(turn.question.len()).map_err(|_| TooLarge)?;
        let answer_len = u32::try_from(turn.answer.len()).map_err(|_| TooLarge)?;
        let model = models.intern(turn.provider, &turn.model)?;
        let excess = (self.turns.len() + 1).saturating_sub(max_turns);
        let keep = (0..self.turns.len()).map(|i| i >= excess).collect();
        self.retain(keep, &[&turn.question, &turn.answer]);
        // After trimming: forgetting a trimmed person renumbers the others.
        let person = self.person_index(&turn.user_id)?;
        self.reserve_one(max_turns);
        self.turns.push(PackedTurn {
            at: turn.at,
            question_len,
            answer_len,
            person,
            model,
        });
        Ok(())
    }

    /// The turns, oldest first, as plain [`Turn`]s.
    pub(super) fn to_turns(&self, models: &ModelTable) -> Vec<Turn> {
        let mut offset = 0;
        let mut out = Vec::with_capacity(self.turns.len());
        for packed in &self.turns {
            // Lengths always tile the buffer on char boundaries; `get` only
            // guards against a bug turning into a panic.
            let text = self
                .text
                .get(offset..offset + packed.text_len())
                .unwrap_or("");
            offset += packed.text_len();
            out.push(self.unpack(packed, text, models));
        }
        out
    }

    /// Removes every turn asked by `user_id`; returns how many.
    pub(super) fn remove_user(&mut self, user_id: &str) -> usize {
        let Some(person) = self.people.iter().position(|p| &**p == user_id) else {
            return 0;
        };
        let keep: Vec<bool> = self
            .turns
            .iter()
            .map(|t| usize::from(t.person) != person)
            .collect();
        let removed = keep.iter().filter(|k| !**k).count();
        self.retain(keep, &[]);
        removed
    }

    /// Keeps the turns flagged in `keep`, rebuilding the buffer exactly with
    /// `extra` appended, and forgets people left without a turn.
    fn retain(&mut self, keep: Vec<bool>, extra: &[&str]) {
        let extra_len: usize = extra.iter().map(|s| s.len()).sum();
        let kept_len: usize = self
            .turns
            .iter()
            .zip(&keep)
            .filter(|(_, k)| **k)
            .map(|(t, _)| t.text_len())
            .sum();
        let mut text = String::with_capacity(kept_len + extra_len);
        let mut offset = 0;
        for (turn, kept) in self.turns.iter().zip(&keep) {
            if *kept {
                text.push_str(
                    self.text
                        .get(offset..offset + turn.text_len())
                        .unwrap_or(""),
                );
            }
            offset += turn.text_len();
        }
        for piece in extra {
            text.push_str(piece);
        }
        self.text = text.into_boxed_str();
        let mut flags = keep.into_iter();
        self.turns.retain(|_| flags.next().unwrap_or(true));
        self.forget_absent_people();
    }

    fn unpack(&self, packed: &PackedTurn, text: &str, models: &ModelTable) -> Turn {
        let (question, answer) = text
            .split_at_checked(packed.question_len as usize)
            .unwrap_or((text, ""));
        let (provider, model) = models.get(packed.model);
        Turn {
            user_id: self
                .people
                .get(usize::from(packed.person))
                .map_or_else(String::new, |p| p.to_string()),
            question: question.to_owned(),
            answer: answer.to_owned(),
            provider,
            model: model.to_owned(),
            at: packed.at,
        }
    }

    fn person_index(&mut self, user_id: &str) -> Result<u16, TooLarge> {
        if let Some(i) = self.people.iter().position(|p| &**p == user_id) {
            return u16::try_from(i).map_err(|_| TooLarge);
        }
        let i = u16::try_from(self.people.len()).map_err(|_| TooLarge)?;
        self.people.reserve_exact(1);
        self.people.push(user_id.into());
        Ok(i)
    }

    /// Drops people no turn refers to any more and renumbers the rest.
    fn forget_absent_people(&mut self) {
        let mut used = vec![false; self.people.len()];
        for turn in &self.turns {
            if let Some(u) = used.get_mut(usize::from(turn.person)) {
                *u = true;
            }
        }
        if used.iter().all(|u| *u) {
            return;
        }
        // New index of each person kept, in the same order.
        let mut renumbered = Vec::with_capacity(used.len());
        let mut next = 0u16;
        for u in &used {
            renumbered.push(next);
            next += u16::from(*u);
        }
        for turn in &mut self.turns {
            if let Some(&person) = renumbered.get(usize::from(turn.person)) {
                turn.person = person;
            }
        }
        let mut flags = used.into_iter();
        self.people.retain(|_| flags.next().unwrap_or(true));
        self.people.shrink_to_fit();
    }

    /// Grows by a quarter at a time (never past `max_turns`) instead of
    /// doubling, so a full conversation wastes little capacity.
    fn reserve_one(&mut self, max_turns: usize) {
        let len = self.turns.len();
        if len < self.turns.capacity() {
            return;
        }
        let room = max_turns.saturating_sub(len).max(1);
        self.turns.reserve_exact((len / 4).clamp(1, room));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn turn(user: &str, n: i64) -> Turn {
        Turn {
            user_id: user.into(),
            question: format!("question {n} é"),
            answer: format!("answer {n} 🦀"),
            provider: if n % 2 == 0 {
                ProviderKind::OpenAi
            } else {
                ProviderKind::Perplexity
            },
            model: format!("model-{}", n % 3),
            at: 1_000 + n,
        }
    }

    #[test]
    fn packed_turns_come_back_exactly_as_they_went_in() {
        let mut models = ModelTable::default();
        let mut log = TurnLog::default();
        let turns: Vec<Turn> = (0..6)
            .map(|n| turn(["a", "b"][n as usize % 2], n))
            .collect();
        for t in &turns {
            log.push(t.clone(), &mut models, 10).unwrap();
        }
        assert_eq!(log.to_turns(&models), turns);
        assert_eq!(log.last_active(), Some(1_005));
    }

    #[test]
    fn pushing_past_the_limit_drops_the_oldest_turns() {
        let mut models = ModelTable::default();
        let mut log = TurnLog::default();
        for n in 0..7 {
            log.push(turn("a", n), &mut models, 3).unwrap();
        }
        let ats: Vec<i64> = log.to_turns(&models).iter().map(|t| t.at).collect();
        assert_eq!(ats, vec![1_004, 1_005, 1_006]);
    }

    #[test]
    fn a_zero_turn_limit_stores_nothing() {
        let mut models = ModelTable::default();
        let mut log = TurnLog::default();
        log.push(turn("a", 1), &mut models, 0).unwrap();
        assert!(log.is_empty());
        assert_eq!(log.last_active(), None);
    }

    #[test]
    fn people_whose_turns_were_trimmed_are_forgotten_and_indexes_stay_right() {
        let mut models = ModelTable::default();
        let mut log = TurnLog::default();
        for (n, user) in ["a", "b", "c", "b", "c"].iter().enumerate() {
            log.push(turn(user, n as i64), &mut models, 3).unwrap();
        }
        assert_eq!(log.people.len(), 2, "`a` has no turn left");
        let users: Vec<String> = log
            .to_turns(&models)
            .into_iter()
            .map(|t| t.user_id)
            .collect();
        assert_eq!(users, ["c", "b", "c"]);
    }

    #[test]
    fn removing_a_user_keeps_everyone_else_in_order() {
        let mut models = ModelTable::default();
        let mut log = TurnLog::default();
        for (n, user) in ["a", "b", "a", "c"].iter().enumerate() {
            log.push(turn(user, n as i64), &mut models, 10).unwrap();
        }
        assert_eq!(log.remove_user("a"), 2);
        assert_eq!(log.remove_user("nobody"), 0);
        let left: Vec<(String, i64)> = log
            .to_turns(&models)
            .into_iter()
            .map(|t| (t.user_id, t.at))
            .collect();
        assert_eq!(left, [("b".to_string(), 1_001), ("c".to_string(), 1_003)]);
        assert_eq!(log.last_active(), Some(1_003));
    }

    #[test]
    fn models_are_shared_between_turns_and_kept_apart_by_provider() {
        let mut models = ModelTable::default();
        let a = models.intern(ProviderKind::OpenAi, "m").unwrap();
        let b = models.intern(ProviderKind::Perplexity, "m").unwrap();
        assert_ne!(a, b);
        assert_eq!(models.intern(ProviderKind::OpenAi, "m").unwrap(), a);
        assert_eq!(models.get(b), (ProviderKind::Perplexity, "m"));
    }

    #[test]
    fn capacity_grows_gently_and_never_past_the_limit() {
        let mut models = ModelTable::default();
        let mut log = TurnLog::default();
        for n in 0..40 {
            log.push(turn("a", n), &mut models, 25).unwrap();
        }
        assert_eq!(log.len(), 25);
        assert!(log.turns.capacity() <= 25, "{}", log.turns.capacity());
    }
}
