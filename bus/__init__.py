"""The shared kernel of Tarn: messages, Redis streams and replies, typed records and their
stores, key names, settings, and the clients and rules every process shares."""
