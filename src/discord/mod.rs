//! The Discord frontend; the only code that imports serenity and poise.
