package maildir

import (
	"errors"
	"fmt"
	"log/slog"
	"slices"
)

// scan lists the messages of the maildir in delivery order, with their
// sizes from the cache where it has them. It reads the two directories and
// the cache and nothing else: no message file is opened or stat'ed (but on
// file systems that do not report file types in directory entries).
// cacheDirty tells that the cache lacks entries or has entries to drop.
func scan(t *tree, log *slog.Logger) (msgs []message, cacheDirty bool, err error) {
	// Read the cache while the kernel reads the directories.
	type cacheResult struct {
		lines []cacheLine
		err   error
	}
	cacheCh := make(chan cacheResult, 1)
	go func() {
		l, err := readCache(t.root)
		cacheCh <- cacheResult{l, err}
	}()

	// And parse each batch of names while the kernel reads the next one,
	// in the order they are in memory (in sorted order every name would be
	// a cache miss).
	type batch struct {
		folder folder
		names  []string
	}
	batches := make(chan batch, 8)
	var unsorted [][]message // by batch: no copying to grow one slice
	var keys []sortKey
	parsed := make(chan struct{})
	go func() {
		defer close(parsed)
		for b := range batches {
			bi := int32(len(unsorted))
			part := make([]message, len(b.names))
			for i, name := range b.names {
				msg := newMessage(b.folder, name)
				msg.uid = uidOf(msg.base)
				part[i] = msg
				keys = append(keys, sortKey{keyOf(msg.base), bi, int32(i)})
			}
			unsorted = append(unsorted, part)
		}
	}()
	for _, f := range []folder{folderNew, folderCur} {
		err = listFolder(t.folder[f], func(names []string) {
			batches <- batch{f, names}
		})
		if err != nil {
			err = fmt.Errorf("maildir: reading %s/: %w", f, err)
			break
		}
	}
	close(batches)
	<-parsed
	cache := <-cacheCh
	if err != nil {
		return nil, false, err
	}

	slices.SortFunc(keys, func(a, b sortKey) int {
		if c := a.baseKey.compare(b.baseKey); c != 0 {
			return c
		}
		return compareMessages(&unsorted[a.batch][a.idx], &unsorted[b.batch][b.idx])
	})
	msgs = make([]message, len(keys))
	for j, k := range keys {
		msgs[j] = unsorted[k.batch][k.idx]
	}
	fixDuplicateUIDs(msgs, func(j int) bool { return keys[j].baseKey == keys[j-1].baseKey })

	if cache.err != nil {
		log.Warn("maildir: ignoring sizes cache", "dir", t.path, "err", cache.err)
	}
	cacheDirty = applyCache(msgs, keys, cache.lines)
	return msgs, cacheDirty, nil
}

// location is where a file is now.
type location struct {
	folder folder
	name   string
}

// locations maps base names to the files that have them, from a fresh read
// of new/ and cur/. It is made when a message is not where it was, to find
// it if another program moved it or changed its flags.
type locations map[string][]location

func readLocations(t *tree) (locations, error) {
	locs := make(locations)
	var errs []error
	for _, f := range []folder{folderNew, folderCur} {
		err := listFolder(t.folder[f], func(names []string) {
			for _, name := range names {
				b := baseName(name)
				locs[b] = append(locs[b], location{f, name})
			}
		})
		if err != nil {
			errs = append(errs, fmt.Errorf("maildir: reading %s/: %w", f, err))
		}
	}
	return locs, errors.Join(errs...)
}
