package io.paxcron.schedule;

/**
 * One whitespace-separated field of an expression as the user wrote it.
 *
 * @param field which field this is
 * @param text the characters of the field
 * @param column the 1-based column of its first character
 */
record FieldToken(ScheduleField field, String text, int column) {}
