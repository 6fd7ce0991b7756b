"""The training service: one per server process, shared by every session on it.

`explorer.service.service.TrainingService` queues, deduplicates, runs and reports trainings;
`explorer.service.jobs` holds a job's state as sessions read it; `explorer.service.local` trains
in a child process (`explorer.service.child`) so the server never loads TensorFlow, and
`explorer.service.protocol` names the messages between them.
"""
