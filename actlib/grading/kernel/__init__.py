"""The student's side of grading: what runs inside the kernel that runs the submission.

A student can change everything here; nothing here decides a grade."""
