package jmap

import (
	"context"
	"encoding/json"
	"errors"
	"slices"

	"freehold/internal/store"
)

// Identities, labels, the vacation response and settings are small JSON
// documents in the store (store.JMAPObjects). objectStore gives them the
// standard /get and /set shapes; each type supplies how to validate.

// objectType describes one such type.
type objectType struct {
	kind   store.ChangeKind
	prefix byte
	props  []string
	// singleton types have one object, id "singleton", that exists
	// implicitly with defaults.
	singleton bool
	defaults  func() map[string]any
	// check validates a full object after a create or update, and may
	// fill server-set properties; it returns a SetError to refuse.
	check func(ctx context.Context, c *call, obj map[string]any, create bool) *SetError
	// immutable properties cannot change after creation.
	immutable []string
	// serverSet properties may not be given by the client.
	serverSet []string
}

type storedObject struct {
	id  int64
	obj map[string]any
}

func (t *objectType) idString(id int64) string {
	if t.singleton {
		return "singleton"
	}
	return formatID(t.prefix, id)
}

// load returns the account's objects of this type.
func (t *objectType) load(ctx context.Context, c *call) ([]storedObject, error) {
	objs, err := c.s.st.JMAPObjects(ctx, c.acct().ID, t.kind)
	if err != nil {
		return nil, err
	}
	out := make([]storedObject, 0, len(objs))
	for _, o := range objs {
		m := map[string]any{}
		if err := json.Unmarshal(o.Data, &m); err != nil {
			return nil, err
		}
		m["id"] = t.idString(o.ID)
		out = append(out, storedObject{o.ID, m})
	}
	if t.singleton && len(out) == 0 {
		d := t.defaults()
		d["id"] = "singleton"
		out = append(out, storedObject{0, d})
	}
	return out, nil
}

// find resolves a client id to a stored object.
func (t *objectType) find(objs []storedObject, c *call, raw string) (storedObject, bool) {
	id, _ := c.resolveID(raw)
	for _, o := range objs {
		if o.obj["id"] == id {
			return o, true
		}
	}
	return storedObject{}, false
}

// get implements a standard /get (RFC 8620 §5.1).
func (t *objectType) get(ctx context.Context, c *call) (any, error) {
	var a getArgs
	want, resp, err := c.beginGet(ctx, &a, t.props)
	if err != nil {
		return nil, err
	}
	objs, err := t.load(ctx, c)
	if err != nil {
		return nil, err
	}
	if a.IDs == nil {
		for _, o := range objs {
			resp.List = append(resp.List, pick(o.obj, want))
		}
		return resp, nil
	}
	for _, raw := range *a.IDs {
		if o, ok := t.find(objs, c, raw); ok {
			resp.List = append(resp.List, pick(o.obj, want))
		} else {
			resp.NotFound = append(resp.NotFound, raw)
		}
	}
	return resp, nil
}

// set implements a standard /set (RFC 8620 §5.3).
func (t *objectType) set(ctx context.Context, c *call) (any, error) {
	var a setArgs
	resp, err := c.beginSet(ctx, &a, &a)
	if err != nil {
		return nil, err
	}
	for _, cid := range sortedKeys(a.Create) {
		if t.singleton {
			resp.NotCreated[cid] = &SetError{Type: setSingleton}
			continue
		}
		obj, se := t.create(ctx, c, a.Create[cid])
		if se != nil {
			resp.NotCreated[cid] = se
			continue
		}
		c.req.created[cid] = obj["id"].(string)
		resp.Created[cid] = obj
	}
	for _, id := range sortedKeys(a.Update) {
		changed, se := t.update(ctx, c, id, a.Update[id])
		if se != nil {
			resp.NotUpdated[id] = se
			continue
		}
		resp.Updated[id] = changed
	}
	for _, id := range a.Destroy {
		if se := t.destroy(ctx, c, id); se != nil {
			resp.NotDestroyed[id] = se
			continue
		}
		resp.Destroyed = append(resp.Destroyed, id)
	}
	_, resp.NewState, err = c.state(ctx)
	return resp, err
}

func (t *objectType) create(ctx context.Context, c *call, raw json.RawMessage) (map[string]any, *SetError) {
	var in map[string]any
	if json.Unmarshal(raw, &in) != nil {
		return nil, invalidProps("not an object")
	}
	obj := t.defaults()
	for k, v := range in {
		if !slices.Contains(t.props, k) {
			return nil, invalidProps("unknown property "+k, k)
		}
		if k == "id" || slices.Contains(t.serverSet, k) {
			return nil, invalidProps(k+" is server-set", k)
		}
		obj[k] = v
	}
	if se := t.check(ctx, c, obj, true); se != nil {
		return nil, se
	}
	data, _ := json.Marshal(withoutID(obj))
	id, err := c.s.st.CreateJMAPObject(ctx, c.acct().ID, t.kind, data)
	if err != nil {
		return nil, storeSetErr(err)
	}
	out := map[string]any{"id": t.idString(id)}
	for _, k := range t.serverSet {
		out[k] = obj[k]
	}
	return out, nil
}

func withoutID(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		if k != "id" {
			out[k] = v
		}
	}
	return out
}

// update applies a patch whose keys are top-level property names.
func (t *objectType) update(ctx context.Context, c *call, rawID string, patch json.RawMessage) (map[string]any, *SetError) {
	objs, err := t.load(ctx, c)
	if err != nil {
		return nil, &SetError{Type: setForbidden}
	}
	o, ok := t.find(objs, c, rawID)
	if !ok {
		return nil, &SetError{Type: setNotFound}
	}
	var p map[string]any
	if json.Unmarshal(patch, &p) != nil {
		return nil, invalidProps("not a patch object")
	}
	obj := withoutID(o.obj)
	for k, v := range p {
		if !slices.Contains(t.props, k) || k == "id" {
			return nil, invalidProps("cannot set "+k, k)
		}
		if slices.Contains(t.serverSet, k) || slices.Contains(t.immutable, k) {
			b1, _ := json.Marshal(v)
			b2, _ := json.Marshal(obj[k])
			if string(b1) != string(b2) {
				return nil, invalidProps(k+" cannot be changed", k)
			}
		}
		obj[k] = v
	}
	if se := t.check(ctx, c, obj, false); se != nil {
		return nil, se
	}
	data, _ := json.Marshal(obj)
	if t.singleton && o.id == 0 {
		_, err = c.s.st.CreateJMAPObject(ctx, c.acct().ID, t.kind, data)
	} else {
		err = c.s.st.UpdateJMAPObject(ctx, c.acct().ID, t.kind, o.id, data)
	}
	if err != nil {
		return nil, storeSetErr(err)
	}
	return nil, nil
}

func (t *objectType) destroy(ctx context.Context, c *call, rawID string) *SetError {
	if t.singleton {
		return &SetError{Type: setSingleton}
	}
	objs, err := t.load(ctx, c)
	if err != nil {
		return &SetError{Type: setForbidden}
	}
	o, ok := t.find(objs, c, rawID)
	if !ok {
		return &SetError{Type: setNotFound}
	}
	if md, ok := o.obj["mayDelete"].(bool); ok && !md {
		return &SetError{Type: setForbidden, Description: "this object cannot be destroyed"}
	}
	if err := c.s.st.DeleteJMAPObject(ctx, c.acct().ID, t.kind, o.id); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return &SetError{Type: setNotFound}
		}
		return storeSetErr(err)
	}
	return nil
}

// changes implements a standard /changes over the type's log entries.
func (t *objectType) changes(ctx context.Context, c *call) (any, error) {
	return c.simpleChanges(ctx, t.kind, t.idString)
}
