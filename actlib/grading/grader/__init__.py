"""The grader's side of grading: everything here runs where the student's code cannot reach."""
