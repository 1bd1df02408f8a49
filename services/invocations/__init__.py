"""Invoke and InvokeWithResponseStream: resolving what runs, publishing it, answering as AWS
does; and the API's cache of the function versions and aliases every invoke reads."""
