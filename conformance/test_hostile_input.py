"""`harness broker`'s switches for hostile clients and for capturing fuzzing seeds."""
import socket
import struct
import subprocess

from conftest import running_broker, wait_for


def api_versions_frame(correlation_id):
    """An ApiVersions v0 request, size prefix included."""
    client_id = b"raw"
    body = struct.pack(">hhih", 18, 0, correlation_id, len(client_id)) + client_id
    return struct.pack(">i", len(body)) + body


def answered(sock, correlation_id):
    """Sends ApiVersions and says whether the broker answered it (False: connection closed)."""
    try:
        sock.sendall(api_versions_frame(correlation_id))
        response = read_exactly(sock, 4)
        response = read_exactly(sock, struct.unpack(">i", response)[0]) if len(response) == 4 else b""
    except ConnectionError:
        return False
    return len(response) >= 4 and struct.unpack(">i", response[:4])[0] == correlation_id


def read_exactly(sock, n):
    """n bytes, or fewer when the broker closes the connection first."""
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            break
        data += chunk
    return data


def connect(bootstrap):
    host, port = bootstrap.split(",")[0].rsplit(":", 1)
    return socket.create_connection((host, int(port)), timeout=10)


def test_max_connections_refuses_the_connection_beyond_it(tmp_path):
    with running_broker(tmp_path, "--max-connections", "1") as broker:
        first = connect(broker.bootstrap)
        assert answered(first, 1)
        second = connect(broker.bootstrap)
        assert not answered(second, 2), "the connection beyond the limit is closed unanswered"
        second.close()
        assert answered(first, 3), "the connection within the limit is served as before"
        first.close()
        wait_for(lambda: "already has 1 client connections (maxConnectionsPerBroker)" in open(broker.log).read(),
                 "the refusal's log line")


def test_idle_timeout_closes_a_connection_stalled_mid_frame(tmp_path):
    with running_broker(tmp_path, "--idle-timeout", "1") as broker:
        stalled = connect(broker.bootstrap)
        stalled.sendall(struct.pack(">i", 100) + b"\x00\x12")  # 100 bytes promised, 2 sent
        try:
            closed = stalled.recv(1) == b""
        except ConnectionError:
            closed = True
        assert closed, "closed by the broker after a second of silence"
        stalled.close()
        wait_for(lambda: "(connectionIdleTimeout)" in open(broker.log).read(), "the idle timeout's log line")


def test_capture_requests_writes_each_distinct_frame(tmp_path):
    capture = tmp_path / "frames"
    with running_broker(tmp_path, "--capture-requests", str(capture)) as broker:
        subprocess.run(["kcat", "-b", broker.bootstrap, "-L"], check=True, capture_output=True, timeout=30)
        subprocess.run(["kcat", "-b", broker.bootstrap, "-L"], check=True, capture_output=True, timeout=30)
    names = sorted(f.name for f in capture.iterdir())
    assert any(n.startswith("key18-v") for n in names), names  # ApiVersions
    assert any(n.startswith("key3-v") for n in names), names  # Metadata
    for f in capture.iterdir():
        frame = f.read_bytes()
        assert struct.unpack(">i", frame[:4])[0] == len(frame) - 4, f"{f.name} holds one whole frame"
