"""The case file as a public record: closing, file plan, retention, legal hold, destruction."""
