"""The feedback service: workers' feedback, questions, petitions and collaborators' opinion
reports — intake, routing, workflow and periodic reports (issue 5 builds it out)."""
